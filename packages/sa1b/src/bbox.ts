import { assertValidMask, type BinaryMask } from "./mask";

/**
 * An axis-aligned box `[x, y, width, height]` in pixels (COCO / SA-1B "XYWH"): (x, y) is the top-left
 * corner. A mask's box covers whole pixels, so pixel columns x .. x+width-1 and rows y .. y+height-1.
 */
export type Bbox = [x: number, y: number, width: number, height: number];

/** Inclusive pixel extent of the object: first and last object column and row; null for an empty mask. */
export interface MaskExtent {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function maskExtent(mask: BinaryMask): MaskExtent | null {
  assertValidMask(mask);
  const { width, height, data } = mask;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (data[row + x] !== 0) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 === height) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/**
 * Tight box around the object pixels in COCO's convention (whole pixels: width = last - first + 1), as
 * pycocotools' `toBbox`. An empty mask gives `[0, 0, 0, 0]`.
 */
export function maskToBbox(mask: BinaryMask): Bbox {
  const e = maskExtent(mask);
  return e ? [e.x0, e.y0, e.x1 - e.x0 + 1, e.y1 - e.y0 + 1] : [0, 0, 0, 0];
}
