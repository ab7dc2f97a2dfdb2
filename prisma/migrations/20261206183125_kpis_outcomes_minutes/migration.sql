-- AlterTable
ALTER TABLE "campaign_counters" ADD COLUMN     "outcome_answered" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_busy" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_canceled" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_failed" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_no_answer" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_rejected" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "outcome_voicemail" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "talk_ms" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "talked" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "campaign_minutes" (
    "campaign_id" UUID NOT NULL,
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "ended" INTEGER NOT NULL DEFAULT 0,
    "answered" INTEGER NOT NULL DEFAULT 0,
    "busy" INTEGER NOT NULL DEFAULT 0,
    "no_answer" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "voicemail" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "canceled" INTEGER NOT NULL DEFAULT 0,
    "finished" INTEGER NOT NULL DEFAULT 0,
    "talk_ms" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_minutes_pkey" PRIMARY KEY ("campaign_id","minute")
);

-- AddForeignKey
ALTER TABLE "campaign_minutes" ADD CONSTRAINT "campaign_minutes_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

