-- Trigram indexes (number search: digits anywhere in a number) need pg_trgm, a trusted extension: the database
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- DropIndex
DROP INDEX "audit_log_tenant_id_created_at_idx";

-- CreateIndex
CREATE INDEX "audit_log_tenant_id_id_idx" ON "audit_log"("tenant_id", "id" DESC);

-- CreateIndex
CREATE INDEX "audit_log_tenant_id_action_id_idx" ON "audit_log"("tenant_id", "action", "id" DESC);

-- CreateIndex
CREATE INDEX "calls_campaign_id_id_idx" ON "calls"("campaign_id", "id");

-- CreateIndex
CREATE INDEX "calls_campaign_id_status_id_idx" ON "calls"("campaign_id", "status", "id");

-- CreateIndex
CREATE INDEX "calls_phone_number_trgm_idx" ON "calls" USING GIN ("phone_number" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "do_not_call_phone_number_trgm_idx" ON "do_not_call" USING GIN ("phone_number" gin_trgm_ops);

