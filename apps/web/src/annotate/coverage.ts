/**
 * How much of the image the masks cover, and where they do not: the union of the masks' RLEs (run
 * merging, no per-mask decode), its share of the image's pixels, and a translucent overlay over every
 * pixel no mask covers, so the annotator sees what is left. Computed once per set of masks.
 */
import { type CocoRle, decodeRle, mergeRles, rleArea } from "@sas/sa1b";
import { OVERLAY_MAX_SIDE, type Rgb } from "./mask-paint";

export interface Coverage {
  /** Covered pixels / image pixels, 0..1. */
  share: number;
  coveredPixels: number;
  /** The union of the masks, or null when no mask fits the image. */
  union: CocoRle | null;
}

/** Masks whose size is not the image's (never stored, but a stale cache could hold one) are skipped. */
export function coverageOf(rles: readonly CocoRle[], width: number, height: number): Coverage {
  const fitting = rles.filter((r) => r.size[0] === height && r.size[1] === width);
  if (fitting.length === 0 || width * height === 0) return { share: 0, coveredPixels: 0, union: null };
  const union = mergeRles(fitting, "union");
  const coveredPixels = rleArea(union);
  return { share: coveredPixels / (width * height), coveredPixels, union };
}

export const UNCOVERED_COLOR: Rgb = [255, 0, 92];

/**
 * Every pixel not under the union, in one translucent colour, at the saved-mask overlay's scale (longest
 * side at most OVERLAY_MAX_SIDE). An overlay pixel is marked when any image pixel it stands for is
 * uncovered, so thin gaps between masks stay visible when scaled down.
 */
export function paintUncovered(
  union: CocoRle | null,
  width: number,
  height: number,
  color: Rgb = UNCOVERED_COLOR,
  alpha = 140,
): ImageData {
  const scale = Math.min(1, OVERLAY_MAX_SIDE / Math.max(width, height));
  const ow = Math.max(1, Math.round(width * scale));
  const oh = Math.max(1, Math.round(height * scale));
  const out = new ImageData(ow, oh);
  const px = new Uint32Array(out.data.buffer, out.data.byteOffset, ow * oh);
  // ImageData is RGBA in memory; on little-endian machines that is ABGR as a uint32.
  const on = ((alpha << 24) | (color[2] << 16) | (color[1] << 8) | color[0]) >>> 0;
  if (!union) {
    px.fill(on);
    return out;
  }
  const { data } = decodeRle(union);
  const colX = new Int32Array(width);
  for (let x = 0; x < width; x++) colX[x] = Math.min(ow - 1, Math.floor(x * scale));
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const orow = Math.min(oh - 1, Math.floor(y * scale)) * ow;
    for (let x = 0; x < width; x++) if (!data[row + x]) px[orow + colX[x]!] = on;
  }
  return out;
}

/** "37%" or "99.6%": one decimal near the ends, where the last few percent matter. */
export function formatCoverage(share: number): string {
  const pct = share * 100;
  if (pct > 0 && pct < 1) return `${pct.toFixed(1)}%`;
  if (pct > 99 && pct < 100) return `${Math.floor(pct * 10) / 10}%`;
  return `${Math.round(pct)}%`;
}
