-- The trace context of the start (or resume) of a campaign, which the scheduler's dispatches continue: one trace from
-- `startCampaign` to each call's last status (docs/decisions.md, "Tracing"). Nullable, no default: no table rewrite.

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "trace_context" JSONB;
