-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "retry_outcome_delays" JSONB NOT NULL DEFAULT '[]';

