/**
 * Intersection over union, with pycocotools' semantics (`maskUtils.iou`):
 *
 * - IoU = |A ∩ B| / |A ∪ B|.
 * - When the intersection is empty the IoU is 0 — including for two empty masks, where the union is
 *   empty too. (pycocotools does the same: it divides by 1 when nothing intersects.)
 * - With `crowd: true` the second argument is a COCO "iscrowd" region and the denominator is the
 *   area of the first argument alone: |A ∩ B| / |A|.
 * - Masks or RLEs of different sizes throw (pycocotools would report -1).
 */
import type { Bbox } from "./bbox";
import { assertValidMask, type BinaryMask } from "./mask";
import { RleError, type RleInput, rleRuns } from "./rle";

export interface IoUOptions {
  /** Treat the second argument as an iscrowd region: divide by the first argument's area. */
  crowd?: boolean;
}

function ratio(intersection: number, union: number): number {
  return intersection === 0 ? 0 : intersection / union;
}

/** IoU of two row-major masks of the same size, pixel by pixel. */
export function maskIoU(a: BinaryMask, b: BinaryMask, options: IoUOptions = {}): number {
  assertValidMask(a);
  assertValidMask(b);
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(
      `cannot compare masks of different sizes: ${a.width}x${a.height} and ${b.width}x${b.height}`,
    );
  }
  const da = a.data;
  const db = b.data;
  let inter = 0;
  let union = 0;
  let areaA = 0;
  for (let i = 0; i < da.length; i++) {
    const x = da[i] !== 0;
    const y = db[i] !== 0;
    if (x) areaA++;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return ratio(inter, options.crowd ? areaA : union);
}

/**
 * IoU of two RLEs of the same size, walking both run lists at once (no decoding), so the cost is
 * proportional to the number of runs, not pixels.
 */
export function rleIoU(a: RleInput, b: RleInput, options: IoUOptions = {}): number {
  const ra = rleRuns(a);
  const rb = rleRuns(b);
  if (ra.height !== rb.height || ra.width !== rb.width) {
    throw new RleError(
      `cannot compare RLEs of different sizes: [${ra.height}, ${ra.width}] and [${rb.height}, ${rb.width}]`,
    );
  }
  const ca = ra.counts;
  const cb = rb.counts;
  const n = ra.height * ra.width;
  let ia = 0;
  let ib = 0;
  let leftA = ca[0] ?? 0;
  let leftB = cb[0] ?? 0;
  let va = 0;
  let vb = 0;
  let pos = 0;
  let inter = 0;
  let union = 0;
  let areaA = 0;
  while (pos < n) {
    while (leftA === 0) {
      leftA = ca[++ia]!;
      va ^= 1;
    }
    while (leftB === 0) {
      leftB = cb[++ib]!;
      vb ^= 1;
    }
    const step = Math.min(leftA, leftB);
    if (va === 1) areaA += step;
    if (va === 1 || vb === 1) {
      union += step;
      if (va === 1 && vb === 1) inter += step;
    }
    pos += step;
    leftA -= step;
    leftB -= step;
  }
  return ratio(inter, options.crowd ? areaA : union);
}

/**
 * IoU of two `[x, y, w, h]` boxes (pycocotools `bbIou`): boxes that only touch, or have no area,
 * give 0.
 */
export function bboxIoU(a: Bbox, b: Bbox, options: IoUOptions = {}): number {
  const [ax, ay, aw, ah] = a;
  const [bx, by, bw, bh] = b;
  const w = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
  if (!(w > 0)) return 0;
  const h = Math.min(ay + ah, by + bh) - Math.max(ay, by);
  if (!(h > 0)) return 0;
  const inter = w * h;
  const areaA = aw * ah;
  const union = options.crowd ? areaA : areaA + bw * bh - inter;
  return inter / union;
}
