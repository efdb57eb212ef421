/** The standard click budget of interactive-segmentation benchmarks. */
export const DEFAULT_MAX_CLICKS = 20;

/**
 * Number of clicks until IoU first reaches `threshold` (1-based). A session that never gets there
 * scores `maxClicks`, as the benchmarks do, so a failure costs the same whether the session ran out
 * of clicks or stopped early.
 */
export function clicksToReach(
  ious: readonly number[],
  threshold: number,
  maxClicks = DEFAULT_MAX_CLICKS,
): number {
  const limit = Math.min(ious.length, maxClicks);
  for (let i = 0; i < limit; i++) {
    if (ious[i]! >= threshold) return i + 1;
  }
  return maxClicks;
}

/**
 * IoU after `clicks` clicks. A session that ended before (the simulator had nothing left to fix, or
 * the caller stopped at a target IoU) keeps its last IoU, so every image contributes to every count.
 */
export function iouAfter(ious: readonly number[], clicks: number): number {
  if (ious.length === 0 || clicks < 1) return 0;
  return ious[Math.min(clicks, ious.length) - 1]!;
}

export interface NocSummary {
  images: number;
  maxClicks: number;
  /** Mean clicks to reach each threshold, keyed by the threshold as a percentage (85, 90). */
  noc: Record<number, number>;
  /** How many images never reached each threshold within `maxClicks`. */
  failed: Record<number, number>;
  /** Mean IoU after k clicks, for k = 1..maxClicks. */
  miou: Record<number, number>;
}

/** NoC and mIoU-by-click over a dataset, given each image's IoU after every click. */
export function summarizeSessions(
  perImageIous: readonly (readonly number[])[],
  {
    maxClicks = DEFAULT_MAX_CLICKS,
    thresholds = [0.85, 0.9],
  }: { maxClicks?: number; thresholds?: number[] } = {},
): NocSummary {
  const images = perImageIous.length;
  const noc: Record<number, number> = {};
  const failed: Record<number, number> = {};
  for (const threshold of thresholds) {
    const key = Math.round(threshold * 100);
    let total = 0;
    let misses = 0;
    for (const ious of perImageIous) {
      const reached = clicksToReach(ious, threshold, maxClicks);
      total += reached;
      if (!ious.slice(0, maxClicks).some((iou) => iou >= threshold)) misses++;
    }
    noc[key] = images > 0 ? total / images : Number.NaN;
    failed[key] = misses;
  }
  const miou: Record<number, number> = {};
  for (let k = 1; k <= maxClicks; k++) {
    let total = 0;
    for (const ious of perImageIous) total += iouAfter(ious, k);
    miou[k] = images > 0 ? total / images : Number.NaN;
  }
  return { images, maxClicks, noc, failed, miou };
}
