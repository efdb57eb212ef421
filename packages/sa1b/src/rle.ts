/**
 * COCO run-length encoding, bit-compatible with pycocotools (`common/maskApi.c`).
 *
 * - Runs are taken over the mask in column-major (Fortran) order: down column 0, then column 1, ...
 *   (BinaryMask itself is row-major; the transposition happens here.)
 * - `counts` alternates zeros and ones and always starts with a run of zeros, which is 0 when the
 *   first pixel is set. The counts sum to height * width.
 * - The compressed string form writes each count as 5-bit groups, least significant first, each as
 *   the character `48 + group` with 0x20 set on every group but the last. The last group's 0x10 bit is
 *   the sign (two's complement). From the fourth count on (index > 2) what is written is the
 *   difference to the count two places earlier (the previous run of the same value), which is small
 *   and often negative.
 * - `size` is `[height, width]`.
 *
 * Anything that is not a well-formed RLE for its size throws an `RleError`.
 */
import type { Bbox } from "./bbox";
import { assertValidMask, type BinaryMask } from "./mask";

/** Thrown for any malformed RLE: bad characters, counts that don't add up, bad sizes, ... */
export class RleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RleError";
  }
}

/** COCO order: `[height, width]`. */
export type RleSize = [height: number, width: number];

/** Compressed COCO RLE, as stored in SA-1B and COCO results files. */
export interface CocoRle {
  size: RleSize;
  counts: string;
}

/** Uncompressed COCO RLE (`iscrowd` ground truth in COCO files uses it). */
export interface UncompressedRle {
  size: RleSize;
  counts: number[];
}

/** Either RLE form; every function that reads an RLE accepts both. */
export interface RleInput {
  readonly size: readonly [number, number];
  readonly counts: string | ArrayLike<number>;
}

/** pycocotools keeps counts in 32-bit unsigned integers, so no mask may have more pixels than this. */
export const MAX_RLE_PIXELS = 0xffff_ffff;

/**
 * Valid counts need at most 7 five-bit groups; allowing a few more (for writers that pad) still stops
 * long before a value could lose precision in a double.
 */
const MAX_GROUPS_PER_VALUE = 10;

/** A validated RLE: counts are non-negative integers summing to height * width. */
interface Runs {
  height: number;
  width: number;
  counts: ArrayLike<number>;
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (Array.isArray(value)) return `array of length ${value.length}`;
  return String(value);
}

function checkSize(size: unknown): { height: number; width: number } {
  if (!Array.isArray(size) || size.length !== 2) {
    throw new RleError(`RLE size must be [height, width], got ${describe(size)}`);
  }
  const [height, width] = size as unknown[];
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width)) {
    throw new RleError(
      `RLE size must be two integers [height, width], got [${String(height)}, ${String(width)}]`,
    );
  }
  const h = height as number;
  const w = width as number;
  if (h < 0 || w < 0) throw new RleError(`RLE size must not be negative, got [${h}, ${w}]`);
  if (h * w > MAX_RLE_PIXELS) {
    throw new RleError(`RLE size [${h}, ${w}] has more than ${MAX_RLE_PIXELS} pixels`);
  }
  return { height: h, width: w };
}

function checkCount(count: unknown, index: number): number {
  if (typeof count !== "number" || !Number.isInteger(count)) {
    throw new RleError(`RLE count #${index} must be an integer, got ${describe(count)}`);
  }
  if (count < 0) throw new RleError(`RLE count #${index} is negative (${count})`);
  if (count > MAX_RLE_PIXELS) throw new RleError(`RLE count #${index} is too large (${count})`);
  return count;
}

function checkSum(counts: ArrayLike<number>, height: number, width: number): void {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]!;
  if (sum !== height * width) {
    throw new RleError(
      `RLE counts sum to ${sum} but size [${height}, ${width}] has ${height * width} pixels`,
    );
  }
}

/** Validates either RLE form and returns its runs. Never returns counts that don't fit the size. */
function readRuns(rle: RleInput): Runs {
  if (typeof rle !== "object" || rle === null)
    throw new RleError(`RLE must be an object, got ${describe(rle)}`);
  const { height, width } = checkSize(rle.size);
  const raw: unknown = rle.counts;
  let counts: ArrayLike<number>;
  if (typeof raw === "string") {
    counts = parseCounts(raw);
  } else if (Array.isArray(raw) || (ArrayBuffer.isView(raw) && !(raw instanceof DataView))) {
    const list = raw as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) checkCount(list[i], i);
    counts = raw as ArrayLike<number>;
  } else {
    throw new RleError(`RLE counts must be a string or an array of numbers, got ${describe(raw)}`);
  }
  checkSum(counts, height, width);
  return { height, width, counts };
}

/**
 * Decodes the compressed counts string (pycocotools `rleFrString`). Throws an RleError on characters
 * outside '0'..'o', a value cut off mid-way, or a count that decodes negative. It does not know the
 * mask size, so it cannot check the sum; `decodeRle` and friends do.
 */
export function countsFromString(s: string): number[] {
  return Array.from(parseCounts(s));
}

/** `countsFromString` into a typed array (no per-count allocation; a string never has more counts than characters). */
function parseCounts(s: string): Uint32Array {
  if (typeof s !== "string") throw new RleError(`RLE counts string expected, got ${describe(s)}`);
  const n = s.length;
  const counts = new Uint32Array(n);
  let m = 0;
  let p = 0;
  while (p < n) {
    const start = p;
    let value = 0;
    let scale = 1;
    let group = 0;
    let more = true;
    while (more) {
      if (p >= n) {
        throw new RleError(
          `RLE counts string ends inside the value that starts at offset ${start} (last character has the continuation bit)`,
        );
      }
      group = s.charCodeAt(p) - 48;
      if (group < 0 || group > 63) {
        throw new RleError(
          `RLE counts string has invalid character ${JSON.stringify(s[p])} at offset ${p}; only '0'..'o' (ASCII 48-111) occur`,
        );
      }
      value += (group & 0x1f) * scale;
      scale *= 32;
      more = (group & 0x20) !== 0;
      p++;
      if (p - start > MAX_GROUPS_PER_VALUE) {
        throw new RleError(`RLE counts string value at offset ${start} is too long to be a valid count`);
      }
    }
    // Sign-extend: the last group's 0x10 bit marks a negative (two's complement) value.
    if ((group & 0x10) !== 0) value -= scale;
    if (m > 2) value += counts[m - 2]!;
    if (value < 0) {
      throw new RleError(`RLE count #${m} decodes to a negative run length (${value}) at offset ${start}`);
    }
    if (value > MAX_RLE_PIXELS)
      throw new RleError(`RLE count #${m} is too large (${value}) at offset ${start}`);
    counts[m++] = value;
  }
  return counts.subarray(0, m);
}

/** Encodes counts as the compressed string (pycocotools `rleToString`). */
export function countsToString(counts: ArrayLike<number>): string {
  for (let i = 0; i < counts.length; i++) checkCount(counts[i], i);
  return writeCounts(counts);
}

/** `countsToString` for counts already known to be integers in [0, MAX_RLE_PIXELS]. */
function writeCounts(counts: ArrayLike<number>): string {
  const m = counts.length;
  // A value below 2^32 and a delta within +-2^32 both fit in 7 groups of 5 bits (sign included).
  const bytes = new Uint8Array(m * 7);
  let p = 0;
  for (let i = 0; i < m; i++) {
    let x = i > 2 ? counts[i]! - counts[i - 2]! : counts[i]!;
    let more = true;
    while (more) {
      let group: number;
      if (x >= -0x8000_0000 && x <= 0x7fff_ffff) {
        group = x & 0x1f;
        x >>= 5;
      } else {
        group = ((x % 32) + 32) % 32;
        x = (x - group) / 32;
      }
      more = (group & 0x10) !== 0 ? x !== -1 : x !== 0;
      bytes[p++] = (more ? group | 0x20 : group) + 48;
    }
  }
  return asciiFromBytes(bytes, p);
}

function asciiFromBytes(bytes: Uint8Array, length: number): string {
  // fromCharCode.apply takes the typed array as its argument list directly (spreading it would go
  // through the iterator, which is several times slower); chunks keep the argument count bounded.
  const step = 0x2000;
  let s = "";
  for (let i = 0; i < length; i += step) {
    const chunk = bytes.subarray(i, Math.min(i + step, length));
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/**
 * Builds a compressed RLE from uncompressed counts, after checking they are non-negative integers
 * that sum to height * width. The counts are written as given (not re-canonicalised).
 */
export function rleFromCounts(size: readonly [number, number], counts: ArrayLike<number>): CocoRle {
  const { height, width } = readRuns({ size, counts });
  return { size: [height, width], counts: writeCounts(counts) };
}

/** Validates an RLE in either form and returns it in compressed form. */
export function toCocoRle(rle: RleInput): CocoRle {
  const { height, width, counts } = readRuns(rle);
  return {
    size: [height, width],
    counts: typeof rle.counts === "string" ? rle.counts : writeCounts(counts),
  };
}

/** Validates an RLE in either form and returns it in uncompressed form (counts as numbers). */
export function toUncompressedRle(rle: RleInput): UncompressedRle {
  const { height, width, counts } = readRuns(rle);
  return { size: [height, width], counts: Array.from(counts) };
}

/** Throws an RleError unless `rle` is a well-formed RLE (either form) whose counts fill its size. */
export function assertValidRle(rle: RleInput): void {
  readRuns(rle);
}

function growCounts(counts: Uint32Array, atLeast: number): Uint32Array {
  const grown = new Uint32Array(Math.max(counts.length * 2, atLeast));
  grown.set(counts);
  return grown;
}

/** Column-major run lengths of a mask, in one pass over the pixels. */
function maskRuns(mask: BinaryMask): Uint32Array {
  const { width: w, height: h, data } = mask;
  const n = w * h;
  let counts: Uint32Array = new Uint32Array(256);
  let m = 0;
  let prev = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    // A column adds at most h runs; growing here keeps the pixel loop free of checks.
    if (m + h + 1 > counts.length) counts = growCounts(counts, m + h + 1);
    // Branch-free: the current run length is stored at counts[m] for every pixel, and m only
    // advances (keeping it) when the value changes. Speckled masks would mispredict a branch often.
    for (let i = x; i < n; i += w) {
      const v = data[i] === 0 ? 0 : 1;
      const changed = v ^ prev;
      counts[m] = run;
      m += changed;
      run = (run & (changed - 1)) + 1;
      prev = v;
    }
  }
  if (m + 1 > counts.length) counts = growCounts(counts, m + 1);
  counts[m++] = run;
  return counts.subarray(0, m);
}

/**
 * Encodes a mask as compressed COCO RLE, exactly as `pycocotools.mask.encode` does for the same mask
 * (non-zero bytes count as object). An empty (0-pixel) mask gives counts "0", as pycocotools does.
 */
export function encodeMask(mask: BinaryMask): CocoRle {
  assertValidMask(mask);
  if (mask.width * mask.height > MAX_RLE_PIXELS) {
    throw new RleError(`mask ${mask.width}x${mask.height} has more than ${MAX_RLE_PIXELS} pixels`);
  }
  return { size: [mask.height, mask.width], counts: writeCounts(maskRuns(mask)) };
}

/** Decodes either RLE form to a row-major mask. */
export function decodeRle(rle: RleInput): BinaryMask {
  const { height: h, width: w, counts } = readRuns(rle);
  const data = new Uint8Array(w * h);
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if ((j & 1) === 1 && len > 0) {
      let col = Math.floor(pos / h);
      let row = pos - col * h;
      let left = len;
      while (left > 0) {
        const take = Math.min(left, h - row);
        let i = row * w + col;
        for (let k = 0; k < take; k++, i += w) data[i] = 1;
        left -= take;
        row = 0;
        col++;
      }
    }
    pos += len;
  }
  return { width: w, height: h, data };
}

/** Object pixel count, summed from the runs without decoding (pycocotools `area`). */
export function rleArea(rle: RleInput): number {
  const { counts } = readRuns(rle);
  let area = 0;
  for (let j = 1; j < counts.length; j += 2) area += counts[j]!;
  return area;
}

/**
 * Tight `[x, y, w, h]` box around the object, from the runs without decoding (pycocotools `toBbox`,
 * including its fix for zero-length runs). An RLE without object pixels gives `[0, 0, 0, 0]`.
 */
export function rleToBbox(rle: RleInput): Bbox {
  const { height: h, counts } = readRuns(rle);
  let xs = Number.POSITIVE_INFINITY;
  let xe = -1;
  let ys = Number.POSITIVE_INFINITY;
  let ye = -1;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const start = pos;
    const len = counts[j]!;
    pos += len;
    if ((j & 1) === 0 || len === 0) continue;
    const xStart = Math.floor(start / h);
    const last = pos - 1;
    const xEnd = Math.floor(last / h);
    if (xStart < xs) xs = xStart;
    if (xEnd > xe) xe = xEnd;
    if (xStart < xEnd) {
      // The run wraps from the bottom of one column to the top of the next: every row is covered.
      ys = 0;
      ye = h - 1;
    } else {
      const yStart = start - xStart * h;
      const yEnd = last - xEnd * h;
      if (yStart < ys) ys = yStart;
      if (yEnd > ye) ye = yEnd;
    }
  }
  if (xe < 0) return [0, 0, 0, 0];
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** Union or intersection of two validated run lists of the same length, as canonical runs. */
function mergeRuns(a: ArrayLike<number>, b: ArrayLike<number>, n: number, intersect: boolean): number[] {
  const out: number[] = [];
  let ia = 0;
  let ib = 0;
  let ra = a[0] ?? 0;
  let rb = b[0] ?? 0;
  let va = 0;
  let vb = 0;
  let cur = 0;
  let run = 0;
  let pos = 0;
  while (pos < n) {
    while (ra === 0) {
      ra = a[++ia]!;
      va ^= 1;
    }
    while (rb === 0) {
      rb = b[++ib]!;
      vb ^= 1;
    }
    const step = Math.min(ra, rb);
    const v = intersect ? va & vb : va | vb;
    if (v !== cur) {
      out.push(run);
      run = 0;
      cur = v;
    }
    run += step;
    pos += step;
    ra -= step;
    rb -= step;
  }
  out.push(run);
  return out;
}

export type MergeMode = "union" | "intersection";

/**
 * Union (default) or intersection of RLEs of the same size (pycocotools `merge`). A single RLE is
 * returned unchanged (compressed); an empty list or mismatched sizes throw an RleError.
 */
export function mergeRles(rles: readonly RleInput[], mode: MergeMode = "union"): CocoRle {
  if (rles.length === 0) throw new RleError("cannot merge an empty list of RLEs (its size is unknown)");
  if (mode !== "union" && mode !== "intersection") {
    throw new RleError(`merge mode must be "union" or "intersection", got ${describe(mode)}`);
  }
  const first = readRuns(rles[0]!);
  const { height, width } = first;
  let counts: ArrayLike<number> = first.counts;
  for (let i = 1; i < rles.length; i++) {
    const next = readRuns(rles[i]!);
    if (next.height !== height || next.width !== width) {
      throw new RleError(
        `cannot merge RLEs of different sizes: #0 is [${height}, ${width}], #${i} is [${next.height}, ${next.width}]`,
      );
    }
    counts = mergeRuns(counts, next.counts, height * width, mode === "intersection");
  }
  return { size: [height, width], counts: writeCounts(counts) };
}

/** @internal Shared with iou.ts: validated runs of an RLE. */
export function rleRuns(rle: RleInput): Readonly<Runs> {
  return readRuns(rle);
}
