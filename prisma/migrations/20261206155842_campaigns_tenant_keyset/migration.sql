-- The campaign list (campaigns(first: n), newest first, by id) reads one index range per page: with
-- (tenant_id, created_at) alone PostgreSQL walked the primary key backwards past every newer campaign of every other
-- tenant. created_at orders nothing any more (the list orders by id, a UUIDv7).

-- DropIndex
DROP INDEX "campaigns_tenant_id_created_at_idx";

-- CreateIndex
CREATE INDEX "campaigns_tenant_id_id_idx" ON "campaigns"("tenant_id", "id" DESC);

