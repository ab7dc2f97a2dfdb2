-- AlterTable
ALTER TABLE "target_imports" ADD COLUMN     "warnings" JSONB NOT NULL DEFAULT '[]';

