import { assertValidRle, type CocoRle, RleError, rleArea, rleToBbox } from "@sas/sa1b";
import type { Prisma } from "../../generated/prisma/client";
import { MaskDomainError } from "./errors";

/** `[x, y, w, h]` as SAM and SA-1B files write it: w = last column - first column (inclusive extent). */
export type SamBbox = [x: number, y: number, w: number, h: number];

export interface MaskGeometry {
  area: number;
  bbox: SamBbox;
}

/**
 * Area and SA-1B box of an RLE, from its runs (no decode: a mask is as large as its image).
 * `rleToBbox` is sa1b's single run-based extent scan in COCO's whole-pixel convention (w = last - first
 * + 1); SAM's `maskBbox` (packages/sam) writes the same extent as w = last - first, which is what
 * Mask.bbox stores, hence the - 1. Malformed counts and empty masks (they annotate nothing) are refused.
 */
export function maskGeometry(rle: CocoRle): MaskGeometry {
  let area: number;
  let box: [number, number, number, number];
  try {
    area = rleArea(rle);
    box = rleToBbox(rle);
  } catch (error) {
    if (error instanceof RleError) throw new MaskDomainError("BAD_REQUEST", error.message);
    throw error;
  }
  if (area === 0) throw new MaskDomainError("BAD_REQUEST", "the mask is empty");
  const [x, y, w, h] = box;
  return { area, bbox: [x, y, w - 1, h - 1] };
}

/** BAD_REQUEST unless the RLE has the image's size (COCO order: [height, width]). */
export function assertRleFitsImage(rle: CocoRle, image: { width: number; height: number }): void {
  const [h, w] = rle.size;
  if (h !== image.height || w !== image.width) {
    throw new MaskDomainError(
      "BAD_REQUEST",
      `mask size [${h}, ${w}] does not match the image's [height, width] [${image.height}, ${image.width}]`,
    );
  }
}

/** What is stored for a mask's pixels: the RLE (a plain copy) and the geometry recomputed from it. */
export function storedGeometry(
  rle: CocoRle,
  image: { width: number; height: number },
): { rle: Prisma.InputJsonObject } & MaskGeometry {
  assertRleFitsImage(rle, image);
  // The one check every RLE write passes (save, update, review correction, import): well-formed counts
  // whose runs cover exactly the image, whichever schema (if any) the caller parsed it with.
  try {
    assertValidRle(rle);
  } catch (error) {
    if (error instanceof RleError) throw new MaskDomainError("BAD_REQUEST", `bad RLE: ${error.message}`);
    throw error;
  }
  return { rle: rleJson(rle), ...maskGeometry(rle) };
}

/** An RLE as a JSON column value (a plain copy: nothing but size and counts is stored). */
export const rleJson = (rle: CocoRle): Prisma.InputJsonObject => ({
  size: [rle.size[0], rle.size[1]],
  counts: rle.counts,
});
