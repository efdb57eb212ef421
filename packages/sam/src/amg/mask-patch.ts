import { type BinaryMask, createMask } from "@sas/sa1b";
import { MASK_THRESHOLD } from "../postprocess";
import type { MaskBoxXYXY } from "./boxes";

/**
 * A mask stored as the pixels inside its own box: rows y0 .. y0+height-1 and columns x0 .. x0+width-1 of
 * some frame (a crop, or after uncropping the image). Proposals are kept like this between the filters and
 * the final RLE encoding, so hundreds of candidates of a large image do not each hold a full-size mask.
 * An empty mask has width = height = 0.
 */
export interface MaskPatch {
  x0: number;
  y0: number;
  width: number;
  height: number;
  data: Uint8Array;
}

export interface ThresholdedPatch {
  patch: MaskPatch;
  /** SAM's `batched_mask_to_box` of the thresholded mask (inclusive; [0, 0, 0, 0] when empty). */
  box: MaskBoxXYXY;
  area: number;
  /** SAM's stability score on these (full-resolution) logits, computed in the same pass. */
  stabilityScore: number;
}

/**
 * Thresholds full-resolution logits (row-major `width x height`) at SAM's mask threshold (> 0), and returns
 * the mask as a patch with its SAM box and area, plus SAM's stability score of the same logits. The logits
 * may be a window whose top-left pixel is (originX, originY) of the frame, when everything outside it is
 * known to be below -stabilityOffset (see `LowResUpscaler`); patch and box are then in the frame's pixels.
 */
export function thresholdToPatch(
  logits: Float32Array,
  width: number,
  height: number,
  stabilityOffset: number,
  originX = 0,
  originY = 0,
): ThresholdedPatch {
  if (width * height > logits.length) throw new RangeError("logits shorter than width*height");
  const hi = MASK_THRESHOLD + stabilityOffset;
  const lo = MASK_THRESHOLD - stabilityOffset;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let area = 0;
  let inter = 0;
  let union = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      const v = logits[row + x]!;
      if (v > hi) inter++;
      if (v > lo) union++;
      if (v > MASK_THRESHOLD) {
        area++;
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first >= 0) {
      if (y0 === height) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }
  const stabilityScore = union === 0 ? 0 : inter / union;
  if (x1 < 0) {
    return { patch: emptyPatch(), box: [0, 0, 0, 0], area: 0, stabilityScore };
  }
  const pw = x1 - x0 + 1;
  const ph = y1 - y0 + 1;
  const data = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    const src = (y0 + y) * width + x0;
    const dst = y * pw;
    for (let x = 0; x < pw; x++) data[dst + x] = logits[src + x]! > MASK_THRESHOLD ? 1 : 0;
  }
  const fx = x0 + originX;
  const fy = y0 + originY;
  return {
    patch: { x0: fx, y0: fy, width: pw, height: ph, data },
    box: [fx, fy, x1 + originX, y1 + originY],
    area,
    stabilityScore,
  };
}

function emptyPatch(): MaskPatch {
  return { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) };
}

/** The same patch moved by (dx, dy): SAM's `uncrop_masks` (zero padding of a crop mask) without the padding. */
export function shiftPatch(patch: MaskPatch, dx: number, dy: number): MaskPatch {
  return { ...patch, x0: patch.x0 + dx, y0: patch.y0 + dy };
}

/** The patch painted into an all-zero mask of `width x height` (the patch must lie inside it). */
export function patchToMask(patch: MaskPatch, width: number, height: number): BinaryMask {
  if (patch.x0 < 0 || patch.y0 < 0 || patch.x0 + patch.width > width || patch.y0 + patch.height > height) {
    throw new RangeError(
      `patch ${patch.width}x${patch.height} at (${patch.x0}, ${patch.y0}) does not fit in ${width}x${height}`,
    );
  }
  const mask = createMask(width, height);
  for (let y = 0; y < patch.height; y++) {
    const dst = (patch.y0 + y) * width + patch.x0;
    mask.data.set(patch.data.subarray(y * patch.width, (y + 1) * patch.width), dst);
  }
  return mask;
}

/** A full mask cut down to its SAM box, with that box and the area. */
export function maskToPatch(mask: BinaryMask): { patch: MaskPatch; box: MaskBoxXYXY; area: number } {
  const { width, height, data } = mask;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let area = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x]) {
        area++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y0 === height) y0 = y;
        y1 = y;
      }
    }
  }
  if (x1 < 0) return { patch: emptyPatch(), box: [0, 0, 0, 0], area: 0 };
  const pw = x1 - x0 + 1;
  const ph = y1 - y0 + 1;
  const out = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    const src = (y0 + y) * width + x0;
    for (let x = 0; x < pw; x++) out[y * pw + x] = data[src + x] ? 1 : 0;
  }
  return { patch: { x0, y0, width: pw, height: ph, data: out }, box: [x0, y0, x1, y1], area };
}
