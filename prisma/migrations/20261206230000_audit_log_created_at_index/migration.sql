-- `auditLog(from:, to:)`: the first and last entries of a time range, found without walking the newer entries
-- (apps/gateway/src/services/audit.ts, auditIdRange).

-- CreateIndex
CREATE INDEX "audit_log_tenant_id_created_at_idx" ON "audit_log"("tenant_id", "created_at");
