-- CreateEnum
CREATE TYPE "ImportIssueSeverity" AS ENUM ('ERROR', 'WARNING');

-- AlterTable
-- `rows_warned` is also added by the recipient zone groups migration (the same definition), which a database may
-- have received first although its name sorts later: IF NOT EXISTS lets either land first.
ALTER TABLE "target_imports" ADD COLUMN     "created_by_api_key_id" UUID,
ADD COLUMN IF NOT EXISTS "rows_warned" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "target_import_issues" (
    "import_id" UUID NOT NULL,
    "row" INTEGER NOT NULL,
    "id" BIGSERIAL NOT NULL,
    "severity" "ImportIssueSeverity" NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "duplicate_of_row" INTEGER,

    CONSTRAINT "target_import_issues_pkey" PRIMARY KEY ("import_id","row","id")
);

-- CreateIndex
CREATE INDEX "target_imports_campaign_id_id_idx" ON "target_imports"("campaign_id", "id");

-- AddForeignKey
ALTER TABLE "target_import_issues" ADD CONSTRAINT "target_import_issues_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "target_imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

