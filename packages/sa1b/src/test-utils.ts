// Helpers for tests and benchmarks (`@sas/sa1b/test-utils`; not part of the package's API).
import { type BinaryMask, createMask } from "./mask";

/** Seeded PRNG (mulberry32): deterministic floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** Independent pixels, each set with probability `density`. */
export function noiseMask(rng: () => number, width: number, height: number, density: number): BinaryMask {
  const mask = createMask(width, height);
  for (let i = 0; i < mask.data.length; i++) mask.data[i] = rng() < density ? 1 : 0;
  return mask;
}

/** A union of random ellipses: smooth "blobby" shapes, sometimes with holes where blobs ring round. */
export function blobMask(rng: () => number, width: number, height: number, blobs: number): BinaryMask {
  const mask = createMask(width, height);
  for (let b = 0; b < blobs; b++) {
    const cx = rng() * width;
    const cy = rng() * height;
    const rx = 2 + rng() * width * 0.25;
    const ry = 2 + rng() * height * 0.25;
    const angle = rng() * Math.PI;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * cos + dy * sin) / rx;
        const v = (-dx * sin + dy * cos) / ry;
        if (u * u + v * v <= 1) mask.data[y * width + x] = 1;
      }
    }
  }
  return mask;
}

/** Mask from rows of '#' (object) and '.' (background). */
export function maskFromRows(rows: readonly string[]): BinaryMask {
  const height = rows.length;
  const width = rows[0]?.length ?? 0;
  const mask = createMask(width, height);
  rows.forEach((row, y) => {
    if (row.length !== width) throw new Error("ragged rows");
    for (let x = 0; x < width; x++) mask.data[y * width + x] = row[x] === "#" ? 1 : 0;
  });
  return mask;
}

export function rectMask(
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): BinaryMask {
  const mask = createMask(width, height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask.data[y * width + x] = 1;
  return mask;
}

export function pixelCount(mask: BinaryMask): number {
  let n = 0;
  for (const v of mask.data) if (v !== 0) n++;
  return n;
}

/**
 * Index of the first pixel where two masks differ (-1 if none). Comparing large typed arrays with
 * `toEqual` is very slow, so tests compare through this.
 */
export function firstDifference(a: BinaryMask, b: BinaryMask): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size differs: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  for (let i = 0; i < a.data.length; i++) {
    if ((a.data[i] !== 0) !== (b.data[i] !== 0)) return i;
  }
  return a.data.length === b.data.length ? -1 : Math.min(a.data.length, b.data.length);
}
