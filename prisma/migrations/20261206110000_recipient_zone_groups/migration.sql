-- Recipient zone groups (docs/data-model.md, "Recipient time zones"). Existing calls keep working unchanged: their
-- `timezone` holds one IANA zone, which is a zone group of one. They are marked UNRECORDED (how their zone was found
-- was not kept). A constant default adds the columns without rewriting the tables (PostgreSQL 11+), whatever their
-- size. The (campaign_id, status, timezone) index the scheduler claims by stays as it is.
-- `rows_warned` is also added by the import report's migration (the same definition): IF NOT EXISTS lets either land
-- first.

-- CreateEnum
CREATE TYPE "TimezoneSource" AS ENUM ('COLUMN', 'NUMBER_PREFIX', 'COUNTRY_CODE', 'UNRECORDED');

-- AlterTable
ALTER TABLE "calls" ADD COLUMN     "timezone_source" "TimezoneSource" NOT NULL DEFAULT 'UNRECORDED';

-- AlterTable
ALTER TABLE "target_imports" ADD COLUMN     "row_warnings" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN IF NOT EXISTS "rows_warned" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "timezone_sources" JSONB NOT NULL DEFAULT '{}';
