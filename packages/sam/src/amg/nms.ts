import type { MaskBoxXYXY } from "./boxes";

/**
 * IoU of two boxes as torchvision's `box_iou` computes it for SAM's NMS: areas are `(x1 - x0) * (y1 - y0)`
 * on the given numbers (SAM passes its inclusive mask boxes, so a one-pixel-wide mask has area 0).
 * Two zero-area boxes give 0 / 0 = NaN, which never exceeds a threshold, as in torchvision.
 */
export function boxIou(a: MaskBoxXYXY, b: MaskBoxXYXY): number {
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / (areaA + areaB - inter);
}

/**
 * Greedy box NMS, as torchvision's `nms` (SAM calls `batched_nms` with one category, which is the same):
 * visit boxes by descending score, keep a box unless an already kept one overlaps it with IoU strictly
 * above `iouThreshold`. Returns the kept indices in visiting order (which is the order SAM's
 * `MaskData.filter(keep)` leaves the masks in). Equal scores keep their input order (a stable sort), where
 * torch's sort gives no guarantee.
 */
export function nonMaxSuppression(
  boxes: readonly MaskBoxXYXY[],
  scores: ArrayLike<number>,
  iouThreshold: number,
): number[] {
  if (scores.length !== boxes.length) {
    throw new RangeError(`${boxes.length} boxes but ${scores.length} scores`);
  }
  const order = boxes.map((_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
  const suppressed = new Uint8Array(boxes.length);
  const keep: number[] = [];
  for (let a = 0; a < order.length; a++) {
    const i = order[a]!;
    if (suppressed[i]) continue;
    keep.push(i);
    const box = boxes[i]!;
    for (let b = a + 1; b < order.length; b++) {
      const j = order[b]!;
      if (!suppressed[j] && boxIou(box, boxes[j]!) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}
