-- CreateEnum
CREATE TYPE "DeadLetterKind" AS ENUM ('INVALID', 'FAILED');

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" UUID NOT NULL,
    "tenant_id" UUID,
    "campaign_id" UUID,
    "error" TEXT NOT NULL,
    "kind" "DeadLetterKind" NOT NULL,
    "original_topic" TEXT,
    "original_partition" INTEGER,
    "original_offset" BIGINT,
    "original_key" TEXT,
    "failed_at" TIMESTAMPTZ(3) NOT NULL,
    "consumer" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "value" BYTEA,
    "headers" JSONB NOT NULL DEFAULT '[]',
    "dead_letter_topic" TEXT NOT NULL,
    "dead_letter_partition" INTEGER NOT NULL,
    "dead_letter_offset" BIGINT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replayed_at" TIMESTAMPTZ(3),
    "replay_count" INTEGER NOT NULL DEFAULT 0,
    "last_replayed_by" TEXT,

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "dead_letters_tenant_id_id_idx" ON "dead_letters"("tenant_id", "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "dead_letters_dead_letter_topic_dead_letter_partition_dead_l_key" ON "dead_letters"("dead_letter_topic", "dead_letter_partition", "dead_letter_offset");

-- AddForeignKey
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

