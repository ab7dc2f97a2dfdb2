-- CreateTable
CREATE TABLE "scheduler_leadership" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "fencing_token" BIGINT NOT NULL,
    "leader_id" TEXT NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scheduler_leadership_pkey" PRIMARY KEY ("id")
);

