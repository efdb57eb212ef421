/**
 * Release downsampling as SA-1B applied it: images whose shortest side exceeds N are scaled so that the
 * shortest side is N (SA-1B used 1500), new size = (round(w * s), round(h * s)) with s = N / min(w, h).
 *
 * Masks are resized by area: an output pixel is object when at least half of the source area it covers is
 * object (box filter, threshold 0.5). Unlike nearest-neighbour sampling this does not alias thin parts
 * and matches what an image resampler does to the mask drawn as an image (export.test.ts compares with
 * sharp's resize: IoU >= 0.98). The same mapping is used for every mask of an image. Masks that vanish
 * (objects under about half an output pixel) are dropped from a downsampled export.
 */
import type { BinaryMask } from "../mask";

export interface ReleaseSize {
  width: number;
  height: number;
  /** newWidth / width and newHeight / height (equal up to rounding). */
  scaleX: number;
  scaleY: number;
  resized: boolean;
}

/** The size an image is released at; unchanged when no limit is set or it already fits. */
export function releaseSize(width: number, height: number, shortestSide?: number | null): ReleaseSize {
  const shortest = Math.min(width, height);
  if (!shortestSide || shortest <= shortestSide) {
    return { width, height, scaleX: 1, scaleY: 1, resized: false };
  }
  const s = shortestSide / shortest;
  const w = Math.max(1, Math.round(width * s));
  const h = Math.max(1, Math.round(height * s));
  return { width: w, height: h, scaleX: w / width, scaleY: h / height, resized: true };
}

/**
 * Weights of the source cells that overlap each output cell along one axis: output cell i covers source
 * [i * n / m, (i + 1) * n / m), and each overlapping source cell counts with the length it shares.
 */
function overlaps(n: number, m: number): { first: Int32Array; weights: Float64Array[] } {
  const scale = n / m;
  const first = new Int32Array(m);
  const weights: Float64Array[] = [];
  for (let i = 0; i < m; i++) {
    const a = i * scale;
    const b = (i + 1) * scale;
    const lo = Math.floor(a);
    const hi = Math.min(n, Math.ceil(b));
    const w = new Float64Array(hi - lo);
    for (let k = lo; k < hi; k++) w[k - lo] = (Math.min(b, k + 1) - Math.max(a, k)) / scale;
    first[i] = lo;
    weights.push(w);
  }
  return { first, weights };
}

/** Area-average resize thresholded at half coverage (see the module comment). */
export function resizeMaskArea(mask: BinaryMask, width: number, height: number): BinaryMask {
  const sw = mask.width;
  const sh = mask.height;
  const cols = overlaps(sw, width);
  const rows = overlaps(sh, height);
  // Horizontal pass: coverage of each (output column, source row), one source row at a time.
  const partial = new Float32Array(width * sh);
  for (let y = 0; y < sh; y++) {
    const src = y * sw;
    const dst = y * width;
    for (let x = 0; x < width; x++) {
      const w = cols.weights[x]!;
      const lo = cols.first[x]!;
      let sum = 0;
      for (let k = 0; k < w.length; k++) if (mask.data[src + lo + k] !== 0) sum += w[k]!;
      partial[dst + x] = sum;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const w = rows.weights[y]!;
    const lo = rows.first[y]!;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < w.length; k++) sum += w[k]! * partial[(lo + k) * width + x]!;
      // A hair under one half: exact halves must not flip with float rounding.
      out[y * width + x] = sum >= 0.5 - 1e-9 ? 1 : 0;
    }
  }
  return { width, height, data: out };
}

/** A point `[x, y]` in the released image's pixels. */
export function scalePoint(point: readonly [number, number], size: ReleaseSize): [number, number] {
  return [point[0] * size.scaleX, point[1] * size.scaleY];
}

/** A box `[x, y, w, h]` in the released image's pixels. */
export function scaleXywh(
  box: readonly [number, number, number, number],
  size: ReleaseSize,
): [number, number, number, number] {
  return [box[0] * size.scaleX, box[1] * size.scaleY, box[2] * size.scaleX, box[3] * size.scaleY];
}
