import type { MaskSource, MaskStatus, Prisma } from "@sas/db";
import { type CocoRle, rleArea, rleToBbox } from "@sas/sa1b";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

/** `[x, y, w, h]` as SAM and SA-1B files write it: w = last column - first column (inclusive extent). */
export type SamBbox = [x: number, y: number, w: number, h: number];

export interface MaskGeometry {
  area: number;
  bbox: SamBbox;
}

/**
 * Area and SA-1B box of a validated RLE, from its runs (no decode: a mask is as large as its image).
 * `rleToBbox` is sa1b's single run-based extent scan in COCO's whole-pixel convention (w = last - first
 * + 1); SAM's `maskBbox` (packages/sam) writes the same extent as w = last - first, which is what
 * Mask.bbox stores, hence the - 1. Empty masks are refused: they annotate nothing.
 */
export function maskGeometry(rle: CocoRle): MaskGeometry {
  const area = rleArea(rle);
  if (area === 0) throw new TRPCError({ code: "BAD_REQUEST", message: "the mask is empty" });
  const [x, y, w, h] = rleToBbox(rle);
  return { area, bbox: [x, y, w - 1, h - 1] };
}

/** BAD_REQUEST unless the RLE has the image's size (COCO order: [height, width]). */
export function assertRleFitsImage(rle: CocoRle, image: { width: number; height: number }): void {
  const [h, w] = rle.size;
  if (h !== image.height || w !== image.width) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `mask size [${h}, ${w}] does not match the image's [height, width] [${image.height}, ${image.width}]`,
    });
  }
}

/** What every mask query selects to build a MaskView. */
export const maskViewSelect = {
  id: true,
  imageId: true,
  rle: true,
  bbox: true,
  area: true,
  predictedIou: true,
  stabilityScore: true,
  label: true,
  source: true,
  status: true,
  version: true,
  authorId: true,
  createdAt: true,
  author: { select: { name: true } },
  timing: { select: { activeMs: true } },
} as const satisfies Prisma.MaskSelect;

type MaskViewRow = Prisma.MaskGetPayload<{ select: typeof maskViewSelect }>;

export interface MaskView {
  id: string;
  rle: CocoRle;
  bbox: SamBbox;
  area: number;
  predictedIou: number | null;
  stabilityScore: number | null;
  label: string;
  source: MaskSource;
  status: MaskStatus;
  version: number;
  authorId: string | null;
  authorName: string | null;
  activeMs: number | null;
  createdAt: Date;
}

/** Shape only: stored RLEs were validated on the way in, and re-decoding every one on read is waste. */
const storedRle = z.object({ size: z.tuple([z.number(), z.number()]), counts: z.string() });
const storedBbox = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export function toMaskView(row: MaskViewRow): MaskView {
  return {
    id: row.id,
    rle: storedRle.parse(row.rle),
    bbox: storedBbox.parse(row.bbox),
    area: row.area,
    predictedIou: row.predictedIou,
    stabilityScore: row.stabilityScore,
    label: row.label,
    source: row.source,
    status: row.status,
    version: row.version,
    authorId: row.authorId,
    authorName: row.author?.name ?? null,
    activeMs: row.timing?.activeMs ?? null,
    createdAt: row.createdAt,
  };
}
