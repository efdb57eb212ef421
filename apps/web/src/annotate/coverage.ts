/**
 * How much of the image the masks cover, and where they do not: the union of the masks' RLEs (run
 * merging, no per-mask decode), its share of the image's pixels, and a translucent hatched overlay over
 * every pixel no mask covers, so the annotator sees what is left. Computed once per set of masks.
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

/** The uncovered regions are dimmed and hatched (no hue of their own: every hue is some mask's). */
export const UNCOVERED_SHADE: Rgb = [0, 0, 0];
export const UNCOVERED_HATCH: Rgb = [255, 214, 0];
/** Hatch period and stripe width, in overlay pixels. */
const HATCH_PERIOD = 14;
const HATCH_WIDTH = 3;

/**
 * Every pixel not under the union, dimmed with diagonal yellow stripes, at the saved-mask overlay's scale
 * (longest side at most OVERLAY_MAX_SIDE). An overlay pixel is marked when any image pixel it stands for
 * is uncovered, so thin gaps between masks stay visible when scaled down.
 */
export function paintUncovered(union: CocoRle | null, width: number, height: number): ImageData {
  const scale = Math.min(1, OVERLAY_MAX_SIDE / Math.max(width, height));
  const ow = Math.max(1, Math.round(width * scale));
  const oh = Math.max(1, Math.round(height * scale));
  const marked = new Uint8Array(ow * oh);
  if (!union) marked.fill(1);
  else {
    const { data } = decodeRle(union);
    const colX = new Int32Array(width);
    for (let x = 0; x < width; x++) colX[x] = Math.min(ow - 1, Math.floor(x * scale));
    for (let y = 0; y < height; y++) {
      const row = y * width;
      const orow = Math.min(oh - 1, Math.floor(y * scale)) * ow;
      for (let x = 0; x < width; x++) if (!data[row + x]) marked[orow + colX[x]!] = 1;
    }
  }
  const out = new ImageData(ow, oh);
  const px = new Uint32Array(out.data.buffer, out.data.byteOffset, ow * oh);
  // ImageData is RGBA in memory; on little-endian machines that is ABGR as a uint32.
  const abgr = ([r, g, b]: Rgb, alpha: number) => ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
  const shade = abgr(UNCOVERED_SHADE, 120);
  const hatch = abgr(UNCOVERED_HATCH, 150);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = y * ow + x;
      if (marked[i]) px[i] = (x + y) % HATCH_PERIOD < HATCH_WIDTH ? hatch : shade;
    }
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
