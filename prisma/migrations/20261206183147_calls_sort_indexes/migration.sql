-- CreateIndex
CREATE INDEX "calls_campaign_id_updated_at_id_idx" ON "calls"("campaign_id", "updated_at", "id");

-- CreateIndex
CREATE INDEX "calls_campaign_id_status_updated_at_id_idx" ON "calls"("campaign_id", "status", "updated_at", "id");

-- CreateIndex
CREATE INDEX "calls_campaign_id_last_outcome_updated_at_id_idx" ON "calls"("campaign_id", "last_outcome", "updated_at", "id");

-- CreateIndex
CREATE INDEX "calls_campaign_id_attempts_id_idx" ON "calls"("campaign_id", "attempts", "id");

