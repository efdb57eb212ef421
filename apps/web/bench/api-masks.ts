// Synthetic masks for bench:api: blob-shaped objects (a few overlapping ellipses) encoded as COCO RLE with
// @sas/sa1b, made once before the timed phase so the bench process does not compete with the server for CPU.
import { type CocoRle, encodeMask } from "@sas/sa1b";
import { seededRandom } from "@sas/sa1b/test-utils";

/** Image sizes the bench project's images get, in turn: SA-1B-like, full HD, and a small photo. */
export const BENCH_IMAGE_SIZES: readonly { width: number; height: number }[] = [
  { width: 2250, height: 1500 },
  { width: 1920, height: 1080 },
  { width: 1024, height: 768 },
];

export interface SyntheticMask {
  rle: CocoRle;
  /** A foreground click inside the object, as the annotation page would have sent it. */
  point: [number, number];
  area: number;
}

/**
 * One object: 1-3 overlapping ellipses around a centre, covering roughly 0.2%-12% of the image (SA-1B's
 * masks are mostly small: the median is well under 1% of the image, a tail reaches tens of percent).
 */
export function syntheticMask(width: number, height: number, random: () => number): SyntheticMask {
  const data = new Uint8Array(width * height);
  const short = Math.min(width, height);
  // Log-uniform radius: many small objects, some large.
  const radius = short * 0.03 * Math.exp(random() * Math.log(0.2 / 0.03));
  const cx = radius + random() * (width - 2 * radius);
  const cy = radius + random() * (height - 2 * radius);
  const parts = 1 + Math.floor(random() * 3);
  for (let p = 0; p < parts; p++) {
    const ox = p === 0 ? 0 : (random() - 0.5) * radius;
    const oy = p === 0 ? 0 : (random() - 0.5) * radius;
    const rx = radius * (0.5 + random() * 0.8);
    const ry = radius * (0.5 + random() * 0.8);
    const x0 = Math.max(0, Math.floor(cx + ox - rx));
    const x1 = Math.min(width - 1, Math.ceil(cx + ox + rx));
    const y0 = Math.max(0, Math.floor(cy + oy - ry));
    const y1 = Math.min(height - 1, Math.ceil(cy + oy + ry));
    for (let y = y0; y <= y1; y++) {
      const dy = (y - cy - oy) / ry;
      for (let x = x0; x <= x1; x++) {
        const dx = (x - cx - ox) / rx;
        if (dx * dx + dy * dy <= 1) data[y * width + x] = 1;
      }
    }
  }
  let area = 0;
  for (let i = 0; i < data.length; i++) area += data[i]!;
  return { rle: encodeMask({ width, height, data }), point: [Math.round(cx), Math.round(cy)], area };
}

/** `perSize` masks for each bench image size, keyed by `${width}x${height}`. */
export function maskPool(perSize: number, seed = 7): Map<string, SyntheticMask[]> {
  const random = seededRandom(seed); // every run saves the same masks
  const pool = new Map<string, SyntheticMask[]>();
  for (const { width, height } of BENCH_IMAGE_SIZES) {
    const masks: SyntheticMask[] = [];
    while (masks.length < perSize) {
      const mask = syntheticMask(width, height, random);
      if (mask.area > 0) masks.push(mask);
    }
    pool.set(`${width}x${height}`, masks);
  }
  return pool;
}
