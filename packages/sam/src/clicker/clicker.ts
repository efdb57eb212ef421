import type { BinaryMask } from "@sas/sa1b";
import type { PointPrompt } from "../types";
import { squaredDistanceTransform } from "./edt";

/**
 * Ground truth for one object. Pixels marked in `ignore` (the 128 "void" band of COCO-MVal/DAVIS-style
 * PNGs) count neither as object nor as background: no click lands there and IoU leaves them out.
 */
export interface GroundTruth {
  /** 1 on the object, 0 elsewhere (including ignored pixels). */
  object: BinaryMask;
  /** 1 where the pixel is ignored; absent when nothing is. */
  ignore?: BinaryMask;
}

/** Grey level of ignored pixels in the standard ground-truth PNGs (255 object, 0 background). */
export const GT_IGNORE_VALUE = 128;

/**
 * Ground truth from an 8-bit grey map: > 128 object, == 128 ignored, anything else background. The
 * strict threshold keeps anti-aliased edges below the void value out of the object.
 */
export function groundTruthFromGray(gray: ArrayLike<number>, width: number, height: number): GroundTruth {
  if (gray.length !== width * height) {
    throw new RangeError(`grey map has ${gray.length} pixels, expected ${width}x${height}`);
  }
  const object = new Uint8Array(width * height);
  const ignore = new Uint8Array(width * height);
  let ignored = 0;
  for (let i = 0; i < object.length; i++) {
    const g = gray[i]!;
    if (g === GT_IGNORE_VALUE) {
      ignore[i] = 1;
      ignored++;
    } else if (g > GT_IGNORE_VALUE) {
      object[i] = 1;
    }
  }
  const gt: GroundTruth = { object: { width, height, data: object } };
  if (ignored > 0) gt.ignore = { width, height, data: ignore };
  return gt;
}

/**
 * `pred` with the ignored pixels cleared, so a plain mask IoU against `gt.object` equals the IoU over
 * the non-ignored pixels (the object is already 0 there, so they drop out of intersection and union).
 */
export function withoutIgnored(gt: GroundTruth, pred: BinaryMask): BinaryMask {
  assertSameSize(gt, pred);
  const ignore = gt.ignore;
  if (!ignore) return pred;
  const data = new Uint8Array(pred.data.length);
  for (let i = 0; i < data.length; i++) data[i] = pred.data[i] && !ignore.data[i] ? 1 : 0;
  return { width: pred.width, height: pred.height, data };
}

/**
 * Where the standard simulated user clicks next, given the current prediction (`null` before any).
 *
 * Follows the protocol of RITM / SimpleClick / SAM's interactive evaluation: the click goes to the
 * pixel deepest inside the larger error region — false negatives give a positive click, false
 * positives a negative one — measured by the Euclidean distance transform with the image border
 * counted as boundary. With no prediction the whole object is a false negative, so the first click
 * is the object's most interior point. Ties go to the false-positive region and then to the first
 * pixel in row-major order, as in the reference implementation. Pixels in `exclude` (already
 * clicked) are skipped. Returns null when no eligible error pixel remains.
 */
export function nextClick(
  gt: GroundTruth,
  pred: BinaryMask | null,
  exclude?: ReadonlySet<number>,
): PointPrompt | null {
  const { width, height } = gt.object;
  if (pred) assertSameSize(gt, pred);
  const n = width * height;
  const object = gt.object.data;
  const ignore = gt.ignore?.data;
  const predicted = pred?.data;

  const fn = new Uint8Array(n);
  const fp = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (ignore?.[i]) continue;
    const isObject = object[i] !== 0;
    const isPredicted = predicted !== undefined && predicted[i] !== 0;
    if (isObject && !isPredicted) fn[i] = 1;
    else if (!isObject && isPredicted) fp[i] = 1;
  }

  const fnBest = deepestPixel(squaredDistanceTransform(fn, width, height), exclude);
  const fpBest = deepestPixel(squaredDistanceTransform(fp, width, height), exclude);
  const positive = fnBest.distance > fpBest.distance;
  const best = positive ? fnBest : fpBest;
  if (best.distance <= 0 || best.index < 0) return null;
  return { x: best.index % width, y: Math.floor(best.index / width), label: positive ? 1 : 0 };
}

/**
 * Stateful simulated user for one object: remembers its clicks so it never clicks the same pixel
 * twice (the reference's "not clicked" map), and hands back the full click list for the decoder.
 */
export class Clicker {
  readonly gt: GroundTruth;
  private readonly history: PointPrompt[] = [];
  private readonly clicked = new Set<number>();

  constructor(gt: GroundTruth) {
    this.gt = gt;
  }

  get clicks(): readonly PointPrompt[] {
    return this.history;
  }

  /** Place the next click against `pred` (null before the first); null when nothing is left to fix. */
  click(pred: BinaryMask | null): PointPrompt | null {
    const click = nextClick(this.gt, pred, this.clicked);
    if (click) {
      this.history.push(click);
      this.clicked.add(click.y * this.gt.object.width + click.x);
    }
    return click;
  }
}

function deepestPixel(
  squaredDistances: Float64Array,
  exclude: ReadonlySet<number> | undefined,
): { index: number; distance: number } {
  let index = -1;
  let distance = 0;
  for (let i = 0; i < squaredDistances.length; i++) {
    const d = squaredDistances[i]!;
    if (d > distance && !exclude?.has(i)) {
      distance = d;
      index = i;
    }
  }
  return { index, distance };
}

function assertSameSize(gt: GroundTruth, mask: BinaryMask): void {
  const { width, height } = gt.object;
  if (mask.width !== width || mask.height !== height || mask.data.length !== width * height) {
    throw new RangeError(`mask is ${mask.width}x${mask.height}, ground truth is ${width}x${height}`);
  }
}
