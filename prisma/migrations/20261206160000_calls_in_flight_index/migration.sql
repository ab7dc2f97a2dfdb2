-- Calls in flight (QUEUED, DIALING, IN_PROGRESS) by state and age, for the scheduler's reaper (attempts DIALING or
-- IN_PROGRESS for too long, over every campaign, oldest first) and its sweep of calls QUEUED for too long. Without it
-- the reaper, which runs beside every tick, read the whole calls table each time (a sequential scan: its condition is
-- on no indexed column). Partial: a call enters it only while in flight, and every one of those updates is a new row
-- version in every index of calls anyway (the state is indexed). Written by hand: the Prisma 6.19 that runs the
-- migrations cannot express a partial index and leaves partial indexes out of its introspection (no drift, and a
-- later diff never drops it). schema.prisma names it in a comment on the Call model.

-- CreateIndex
CREATE INDEX "calls_in_flight_idx" ON "calls"("status", "updated_at") WHERE "status" IN ('QUEUED', 'DIALING', 'IN_PROGRESS');
