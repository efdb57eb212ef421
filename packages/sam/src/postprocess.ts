import { type BinaryMask, createMask, maskExtent } from "@sas/sa1b";

/** SAM's `mask_threshold`: logits above it are the object. */
export const MASK_THRESHOLD = 0;
/** SAM's default `stability_score_offset`. */
export const STABILITY_SCORE_OFFSET = 1;

/** SA-1B / COCO box: [x, y, w, h] in pixels. */
export type BBoxXYWH = [number, number, number, number];

/**
 * Thresholds one candidate's logits (row-major, width*height values starting at `offset`) into a mask.
 * The decoder's `masks` output is already at original resolution, so no resize happens here.
 */
export function thresholdLogits(
  logits: Float32Array,
  width: number,
  height: number,
  offset = 0,
  threshold: number = MASK_THRESHOLD,
): BinaryMask {
  const mask = createMask(width, height);
  const n = width * height;
  if (offset + n > logits.length) throw new RangeError("logits shorter than width*height");
  const out = mask.data;
  for (let i = 0; i < n; i++) out[i] = logits[offset + i]! > threshold ? 1 : 0;
  return mask;
}

/**
 * SAM's `calculate_stability_score`: IoU between the masks thresholded at `threshold + offset` and
 * `threshold - offset`. The high mask is always inside the low one, so IoU = count(high) / count(low).
 * SAM divides 0 by 0 (NaN) when even the low mask is empty; here that is 0, which every
 * `score > thresh` filter treats the same way.
 */
export function stabilityScore(
  logits: Float32Array,
  offset: number = STABILITY_SCORE_OFFSET,
  threshold: number = MASK_THRESHOLD,
  start = 0,
  length: number = logits.length - start,
): number {
  const hi = threshold + offset;
  const lo = threshold - offset;
  let inter = 0;
  let union = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const v = logits[i]!;
    if (v > hi) inter++;
    if (v > lo) union++;
  }
  return union === 0 ? 0 : inter / union;
}

export { maskArea } from "@sas/sa1b";

/**
 * Box around the mask in SA-1B's XYWH, computed as SAM's `batched_mask_to_box` then `box_xyxy_to_xywh`:
 * x1/y1 are the *inclusive* last row/column, so w = x1 - x0 (a one-pixel mask has w = h = 0). This is
 * what SA-1B files carry; `maskToBbox` in @sas/sa1b is COCO's whole-pixel convention (w + 1).
 * An empty mask gives [0, 0, 0, 0].
 */
export function maskBbox(mask: BinaryMask): BBoxXYWH {
  const e = maskExtent(mask);
  return e ? [e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0] : [0, 0, 0, 0];
}

export interface MaskStats {
  mask: BinaryMask;
  area: number;
  bbox: BBoxXYWH;
  stabilityScore: number;
}

/**
 * Threshold, area, box and stability score of one candidate in a single pass over its logits —
 * the decode hot path, where three separate passes over a multi-megapixel mask would show.
 */
export function logitsToMaskStats(
  logits: Float32Array,
  width: number,
  height: number,
  offset = 0,
  stabilityOffset: number = STABILITY_SCORE_OFFSET,
): MaskStats {
  const mask = createMask(width, height);
  const out = mask.data;
  if (offset + width * height > logits.length) throw new RangeError("logits shorter than width*height");
  const hi = MASK_THRESHOLD + stabilityOffset;
  const lo = MASK_THRESHOLD - stabilityOffset;
  let area = 0;
  let inter = 0;
  let union = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      const v = logits[offset + row + x]!;
      if (v > hi) inter++;
      if (v > lo) union++;
      if (v > MASK_THRESHOLD) {
        out[row + x] = 1;
        area++;
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first >= 0) {
      if (y < y0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }
  const bbox: BBoxXYWH = x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0, y1 - y0];
  return { mask, area, bbox, stabilityScore: union === 0 ? 0 : inter / union };
}

export type SmallRegionMode = "holes" | "islands";

/**
 * SAM's AMG `remove_small_regions`: in "holes" mode fills background components smaller than `minArea`,
 * in "islands" mode drops foreground components smaller than `minArea` (keeping the largest one if all
 * are small). Components are 8-connected for both, as SAM calls `cv2.connectedComponentsWithStats(…, 8)`
 * on the mask or its complement; so a hole touching the image border or linked to the outside only through
 * a diagonal gap is "outside", not a hole, exactly as in SAM. Returns a new mask and whether it changed.
 */
export function removeSmallRegions(
  mask: BinaryMask,
  minArea: number,
  mode: SmallRegionMode,
): { mask: BinaryMask; changed: boolean } {
  const { width, height, data } = mask;
  const target = mode === "holes" ? 0 : 1;
  const { labels, sizes } = connectedComponents(data, width, height, target);
  // sizes[0] is unused: labels start at 1.
  const small = new Uint8Array(sizes.length);
  let anySmall = false;
  for (let l = 1; l < sizes.length; l++) {
    if (sizes[l]! < minArea) {
      small[l] = 1;
      anySmall = true;
    }
  }
  if (!anySmall) return { mask: { width, height, data: data.slice() }, changed: false };
  const out = createMask(width, height);
  const o = out.data;
  if (mode === "holes") {
    for (let i = 0; i < o.length; i++) o[i] = data[i] || small[labels[i]!] ? 1 : 0;
  } else {
    const keep = new Uint8Array(sizes.length);
    let kept = 0;
    for (let l = 1; l < sizes.length; l++) {
      if (!small[l]) {
        keep[l] = 1;
        kept++;
      }
    }
    if (kept === 0) {
      let best = 1;
      for (let l = 2; l < sizes.length; l++) if (sizes[l]! > sizes[best]!) best = l;
      keep[best] = 1;
    }
    for (let i = 0; i < o.length; i++) o[i] = keep[labels[i]!] ? 1 : 0;
  }
  return { mask: out, changed: true };
}

/**
 * 8-connected components of the pixels equal to `value`. Label 0 = other pixels; components are 1..n
 * in raster order of their first pixel. Uses an explicit stack, so huge regions do not recurse.
 */
export function connectedComponents(
  data: Uint8Array,
  width: number,
  height: number,
  value: 0 | 1,
): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height);
  const sizes: number[] = [0];
  const stack = new Int32Array(width * height);
  const isTarget = (i: number) => (data[i] ? 1 : 0) === value;
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== 0 || !isTarget(start)) continue;
    const label = sizes.length;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const i = stack[--top]!;
      size++;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const j = ny * width + nx;
          if (labels[j] === 0 && isTarget(j)) {
            labels[j] = label;
            stack[top++] = j;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}
