-- CreateEnum
CREATE TYPE "ImageWorkflowState" AS ENUM ('new', 'in_progress', 'submitted', 'in_review', 'needs_changes', 'done', 'skipped');

-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "workflowState" "ImageWorkflowState" NOT NULL DEFAULT 'new',
ADD COLUMN     "annotatorId" UUID,
ADD COLUMN     "skipReason" TEXT,
ADD COLUMN     "workflowAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "Assignment" ALTER COLUMN "expiresAt" DROP NOT NULL;

-- Existing work keeps its meaning: an image someone completed (the old "next image") waits for review;
-- one under an active lease is in progress with its holder.
UPDATE "Image" i SET "workflowState" = 'submitted', "annotatorId" = a."userId", "workflowAt" = COALESCE(a."completedAt", CURRENT_TIMESTAMP)
FROM "Assignment" a WHERE a."imageId" = i.id AND a.status = 'completed';
UPDATE "Image" i SET "workflowState" = 'in_progress', "annotatorId" = a."userId"
FROM "Assignment" a WHERE a."imageId" = i.id AND a.status = 'active' AND i."workflowState" = 'new';

-- CreateIndex
CREATE INDEX "Image_projectId_createdAt_id_idx" ON "Image"("projectId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Image_projectId_filename_id_idx" ON "Image"("projectId", "filename", "id");

-- CreateIndex
CREATE INDEX "Image_projectId_workflowAt_id_idx" ON "Image"("projectId", "workflowAt", "id");

-- CreateIndex
CREATE INDEX "Image_projectId_workflowState_createdAt_id_idx" ON "Image"("projectId", "workflowState", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Image_projectId_annotatorId_idx" ON "Image"("projectId", "annotatorId");

-- CreateIndex
CREATE INDEX "AuditLog_actorId_createdAt_idx" ON "AuditLog"("actorId", "createdAt");

-- AddForeignKey
ALTER TABLE "Image" ADD CONSTRAINT "Image_annotatorId_fkey" FOREIGN KEY ("annotatorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
