import { assertValidMask, type BinaryMask } from "./mask";

/**
 * An axis-aligned box `[x, y, width, height]` in pixels (COCO / SA-1B "XYWH"): (x, y) is the top-left
 * corner. A mask's box covers whole pixels, so pixel columns x .. x+width-1 and rows y .. y+height-1.
 */
export type Bbox = [x: number, y: number, width: number, height: number];

/**
 * Tight box around the object pixels, computed from the pixels themselves. An empty mask gives
 * `[0, 0, 0, 0]`, as pycocotools' `toBbox` does.
 */
export function maskToBbox(mask: BinaryMask): Bbox {
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
  if (x1 < 0) return [0, 0, 0, 0];
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}
