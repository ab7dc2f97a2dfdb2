-- Keyset pages of a campaign's calls by call flow result (Campaign.calls filters answerKey, transferStatus,
-- answeredBy, optedOut). Partial: only the calls with that result are in each index, so imports and calls that
-- never reached a flow cost nothing. Written by hand: the Prisma 6.19 that runs the migrations cannot express a partial
-- index in schema.prisma and leaves partial indexes out of its introspection (no drift, and a later diff never drops
-- them). schema.prisma names them in a comment on the Call model.

-- CreateIndex
CREATE INDEX "calls_answer_key_idx" ON "calls"("campaign_id", "answer_key", "id") WHERE "answer_key" IS NOT NULL;

-- CreateIndex
CREATE INDEX "calls_transfer_status_idx" ON "calls"("campaign_id", "transfer_status", "id") WHERE "transfer_status" IS NOT NULL;

-- CreateIndex
CREATE INDEX "calls_answered_by_idx" ON "calls"("campaign_id", "answered_by", "id") WHERE "answered_by" IS NOT NULL;

-- CreateIndex
CREATE INDEX "calls_opted_out_idx" ON "calls"("campaign_id", "id", "opted_out_at") WHERE "opted_out_at" IS NOT NULL;
