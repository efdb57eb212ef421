import { type ExportFilters, exportMaskWhere } from "../domain/exports";
import type { PrismaClient } from "../generated/prisma/client";

/** One stored mask as the export writer needs it. */
export interface ExportMaskRow {
  id: string;
  rle: unknown;
  predictedIou: number | null;
  stabilityScore: number | null;
  pointCoords: unknown;
  cropBox: number[];
  source: "manual" | "semi_auto" | "auto";
  stage: "assisted_manual" | "semi_automatic" | "fully_automatic";
  label: string;
  reviewDecision: string | null;
  modelVersion: string | null;
  activeMs: number | null;
}

export interface ExportImageRow {
  id: string;
  sha256: string;
  width: number;
  height: number;
  storageKey: string;
  masks: ExportMaskRow[];
}

/** Images of the project with at least one mask the filters take: what the export will write. */
export function countExportImages(
  db: PrismaClient,
  projectId: string,
  filters: ExportFilters,
): Promise<number> {
  return db.image.count({ where: { projectId, masks: { some: exportMaskWhere(filters) } } });
}

/**
 * The export's images in id order, `batchSize` at a time, each with its matching masks (oldest first).
 * Keyset pagination (id > the last one seen) with one mask query per batch, so memory is bounded by a
 * batch whatever the project's size, and images added meanwhile do not shift pages.
 */
export async function* exportImageBatches(
  db: PrismaClient,
  projectId: string,
  filters: ExportFilters,
  batchSize = 50,
): AsyncGenerator<ExportImageRow[]> {
  const maskWhere = exportMaskWhere(filters);
  let after: string | null = null;
  for (;;) {
    const images: { id: string; sha256: string; width: number; height: number; storageKey: string }[] =
      await db.image.findMany({
        where: { projectId, masks: { some: maskWhere }, ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: "asc" },
        take: batchSize,
        select: { id: true, sha256: true, width: true, height: true, storageKey: true },
      });
    if (images.length === 0) return;
    after = images[images.length - 1]!.id;
    const masks = await db.mask.findMany({
      where: { ...maskWhere, imageId: { in: images.map((i) => i.id) } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: {
        id: true,
        imageId: true,
        rle: true,
        predictedIou: true,
        stabilityScore: true,
        pointCoords: true,
        cropBox: true,
        source: true,
        stage: true,
        label: true,
        reviewDecision: true,
        modelVersion: { select: { name: true } },
        timing: { select: { activeMs: true } },
      },
    });
    const byImage = new Map<string, ExportMaskRow[]>(images.map((i) => [i.id, []]));
    for (const m of masks) {
      byImage.get(m.imageId)?.push({
        id: m.id,
        rle: m.rle,
        predictedIou: m.predictedIou,
        stabilityScore: m.stabilityScore,
        pointCoords: m.pointCoords,
        cropBox: m.cropBox,
        source: m.source,
        stage: m.stage,
        label: m.label,
        reviewDecision: m.reviewDecision,
        modelVersion: m.modelVersion?.name ?? null,
        activeMs: m.timing?.activeMs ?? null,
      });
    }
    yield images.map((image) => ({ ...image, masks: byImage.get(image.id) ?? [] }));
    if (images.length < batchSize) return;
  }
}
