-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "default_timezone" TEXT;

-- CreateIndex
CREATE INDEX "audit_log_tenant_id_actor_id_id_idx" ON "audit_log"("tenant_id", "actor_id", "id" DESC);

