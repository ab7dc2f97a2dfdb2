-- CreateEnum
CREATE TYPE "AnsweredBy" AS ENUM ('HUMAN', 'MACHINE', 'UNKNOWN');

-- CreateEnum
CREATE TYPE "TransferStatus" AS ENUM ('ANSWERED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED');

-- AlterTable
ALTER TABLE "calls" ADD COLUMN     "answer_key" TEXT,
ADD COLUMN     "answer_label" TEXT,
ADD COLUMN     "answered_by" "AnsweredBy",
ADD COLUMN     "flow_error" TEXT,
ADD COLUMN     "message_played" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "opted_out_at" TIMESTAMPTZ(3),
ADD COLUMN     "transfer_duration_ms" INTEGER,
ADD COLUMN     "transfer_number" TEXT,
ADD COLUMN     "transfer_status" "TransferStatus",
ADD COLUMN     "voicemail_left" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "campaign_counters" ADD COLUMN     "answered_by_machine" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "answered_by_person" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "answers" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "flow_errors" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "messages_played" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "opt_outs" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "transfers" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "transfers_answered" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "voicemails_left" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "flow_version" INTEGER;

-- CreateTable
CREATE TABLE "call_flows" (
    "campaign_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "flow" JSONB NOT NULL,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "call_flows_pkey" PRIMARY KEY ("campaign_id","version")
);

-- AddForeignKey
ALTER TABLE "call_flows" ADD CONSTRAINT "call_flows_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

