-- The per-mask CSV (domain/stats/mask-table.ts) pages a project's MaskStat rows by mask id: each batch
-- starts where the last ended instead of sorting the project's masks again.

-- CreateIndex
CREATE INDEX "MaskStat_projectId_maskId_idx" ON "MaskStat"("projectId", "maskId");
