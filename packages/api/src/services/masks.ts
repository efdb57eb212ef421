import type { MaskSource, MaskStatus, Prisma, PrismaClient, ReviewDecision } from "@sas/db";
import { type CocoRle, rleArea, rleToBbox } from "@sas/sa1b";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { VersionConflictError } from "../errors";

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
  reviewDecision: true,
  createdAt: true,
  author: { select: { name: true } },
  timing: { select: { activeMs: true } },
} as const satisfies Prisma.MaskSelect;

type MaskViewRow = Prisma.MaskGetPayload<{ select: typeof maskViewSelect }>;

export interface MaskView {
  id: string;
  imageId: string;
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
  /** The latest review's decision; null until reviewed. */
  reviewDecision: ReviewDecision | null;
  createdAt: Date;
}

/** Shape only: stored RLEs were validated on the way in, and re-decoding every one on read is waste. */
const storedRle = z.object({ size: z.tuple([z.number(), z.number()]), counts: z.string() });
const storedBbox = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export function toMaskView(row: MaskViewRow): MaskView {
  return {
    id: row.id,
    imageId: row.imageId,
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
    reviewDecision: row.reviewDecision,
    createdAt: row.createdAt,
  };
}

/** CONFLICT, carrying the version the row is at now when known (copied to `error.data.currentVersion`). */
export const conflict = (message: string, currentVersion?: number) =>
  new TRPCError({
    code: "CONFLICT",
    message,
    ...(currentVersion === undefined ? {} : { cause: new VersionConflictError(message, currentVersion) }),
  });

/** An RLE as a JSON column value (a plain copy: nothing but size and counts is stored). */
export const rleJson = (rle: CocoRle): Prisma.InputJsonObject => ({
  size: [rle.size[0], rle.size[1]],
  counts: rle.counts,
});

export async function maskView(db: PrismaClient | Prisma.TransactionClient, id: string): Promise<MaskView> {
  return toMaskView(await db.mask.findUniqueOrThrow({ where: { id }, select: maskViewSelect }));
}

/** The CONFLICT to raise when a conditional update changed nothing: says what the mask is now. */
export async function staleVersion(db: PrismaClient, id: string, readVersion: number): Promise<TRPCError> {
  const current = await db.mask.findUnique({ where: { id }, select: { version: true, status: true } });
  if (!current) return new TRPCError({ code: "NOT_FOUND", message: "mask not found" });
  if (current.status === "deleted") {
    return conflict(
      `someone else deleted this mask (it is at version ${current.version}, you read ${readVersion})`,
      current.version,
    );
  }
  return conflict(
    `someone else changed this mask: it is at version ${current.version}, you read version ${readVersion}; reload it`,
    current.version,
  );
}
