-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "modelVersionId" UUID,
ADD COLUMN     "passKey" CHAR(64),
ADD COLUMN     "totalItems" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "doneItems" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "failedItems" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "resultCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Mask" ADD COLUMN     "jobId" UUID,
ADD COLUMN     "passKey" CHAR(64);

-- CreateTable
CREATE TABLE "PassImage" (
    "jobId" UUID NOT NULL,
    "imageId" UUID NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'queued',
    "masks" INTEGER NOT NULL DEFAULT 0,
    "seconds" DOUBLE PRECISION,
    "filterCounts" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "PassImage_pkey" PRIMARY KEY ("jobId","imageId")
);

-- CreateIndex
CREATE INDEX "PassImage_jobId_status_idx" ON "PassImage"("jobId", "status");

-- CreateIndex
CREATE INDEX "PassImage_imageId_idx" ON "PassImage"("imageId");

-- CreateIndex
CREATE INDEX "Mask_imageId_passKey_idx" ON "Mask"("imageId", "passKey");

-- CreateIndex
CREATE INDEX "Mask_jobId_idx" ON "Mask"("jobId");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_modelVersionId_fkey" FOREIGN KEY ("modelVersionId") REFERENCES "ModelVersion"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PassImage" ADD CONSTRAINT "PassImage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PassImage" ADD CONSTRAINT "PassImage_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mask" ADD CONSTRAINT "Mask_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;
