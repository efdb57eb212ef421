import { type BilinearTaps, bilinearTaps } from "../bilinear-taps";
import { preprocessShape } from "../transforms";
import { SAM_IMAGE_SIZE, SAM_LOW_RES_SIZE } from "../types";
import { LOW_RES_AREA } from "./low-res";

/**
 * SAM's postprocessing of low-res logits (bilinear 256 -> 1024 with half-pixel centres, crop the padding,
 * bilinear to the image size; `upscaleLowResLogits`), evaluated only where it can matter. An output pixel is
 * a convex combination of the low-res cells its taps reach, so if every such cell is <= `floor`, so is the
 * pixel: it is outside the mask (threshold 0) and outside both stability masks (±offset) as long as `floor`
 * is at most -offset. `upscale` therefore finds the box of cells above `floor`, maps it to the output pixels
 * whose taps reach it, and computes just that window — with the same taps, weights and float32 rounding as
 * `upscaleLowResLogits`, so every computed value is bit-identical to it. For the many small masks of an
 * automatic pass this is a small fraction of the full-size upsampling.
 */

/** One axis of the two-stage resize: low-res cells -> resized frame (stage 1) -> output (stage 2, or none). */
interface AxisPlan {
  stage1: BilinearTaps;
  stage2: BilinearTaps | null;
  outLen: number;
  /** Highest low-res cell any output reads along this axis. */
  maxCell: number;
}

function axisPlan(outLen: number, resizedLen: number): AxisPlan {
  const stage1 = bilinearTaps(SAM_LOW_RES_SIZE, SAM_IMAGE_SIZE, resizedLen);
  const stage2 = resizedLen === outLen ? null : bilinearTaps(resizedLen, outLen, outLen);
  let maxCell = 0;
  for (let i = 0; i < resizedLen; i++) maxCell = Math.max(maxCell, stage1.hi[i]!);
  return { stage1, stage2, outLen, maxCell };
}

/** Output range [first, last] along an axis whose taps reach a cell in [c0, c1], and the stage-1 range it reads. */
function axisWindow(plan: AxisPlan, c0: number, c1: number) {
  const { stage1: s1, stage2: s2, outLen } = plan;
  const firstCell = (j: number) => s1.lo[s2 ? s2.lo[j]! : j]!;
  const lastCell = (j: number) => s1.hi[s2 ? s2.hi[j]! : j]!;
  let first = 0;
  while (first < outLen && lastCell(first) < c0) first++;
  let last = outLen - 1;
  while (last >= first && firstCell(last) > c1) last--;
  if (last < first) return null;
  const mid0 = s2 ? s2.lo[first]! : first;
  const mid1 = s2 ? s2.hi[last]! : last;
  return { first, last, mid0, mid1 };
}

/** A window of upsampled logits: `width x height` values for output pixels x0.., y0.. (row-major). */
export interface LogitWindow {
  x0: number;
  y0: number;
  width: number;
  height: number;
  data: Float32Array;
}

/** Upsamples low-res candidates of one crop size; plans (taps) are built once per crop. */
export class LowResUpscaler {
  private readonly x: AxisPlan;
  private readonly y: AxisPlan;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const resized = preprocessShape(width, height);
    this.x = axisPlan(width, resized.width);
    this.y = axisPlan(height, resized.height);
  }

  /**
   * The upsampled logits of the candidate at `offset`, on the window of output pixels that can exceed
   * `floor` (everything outside is <= floor); null when no cell the output reads is above `floor`.
   */
  upscale(lowRes: Float32Array, offset: number, floor: number): LogitWindow | null {
    if (offset + LOW_RES_AREA > lowRes.length) throw new RangeError("low-res logits shorter than 256x256");
    const n = SAM_LOW_RES_SIZE;
    // Box of the cells above floor, among those any output reads.
    let cx0 = n;
    let cy0 = n;
    let cx1 = -1;
    let cy1 = -1;
    for (let y = 0; y <= this.y.maxCell; y++) {
      const row = offset + y * n;
      for (let x = 0; x <= this.x.maxCell; x++) {
        if (lowRes[row + x]! > floor) {
          if (x < cx0) cx0 = x;
          if (x > cx1) cx1 = x;
          if (y < cy0) cy0 = y;
          cy1 = y;
        }
      }
    }
    if (cx1 < 0) return null;
    const wx = axisWindow(this.x, cx0, cx1);
    const wy = axisWindow(this.y, cy0, cy1);
    if (!wx || !wy) return null;
    // Stage 1 on the stage-1 window [mid0, mid1] of each axis: horizontal pass on the low-res rows that
    // window reads, then vertical — the order and float32 rounding of upscale.ts.
    const s1x = this.x.stage1;
    const s1y = this.y.stage1;
    const midW = wx.mid1 - wx.mid0 + 1;
    const midH = wy.mid1 - wy.mid0 + 1;
    const rowLo = s1y.lo[wy.mid0]!;
    const rowHi = s1y.hi[wy.mid1]!;
    const rows = new Float32Array((rowHi - rowLo + 1) * midW);
    for (let r = rowLo; r <= rowHi; r++) {
      const s = offset + r * n;
      const d = (r - rowLo) * midW;
      for (let i = 0; i < midW; i++) {
        const c = wx.mid0 + i;
        const a = lowRes[s + s1x.lo[c]!]!;
        rows[d + i] = a + (lowRes[s + s1x.hi[c]!]! - a) * s1x.w[c]!;
      }
    }
    const mid = new Float32Array(midW * midH);
    for (let j = 0; j < midH; j++) {
      const r = wy.mid0 + j;
      const a = (s1y.lo[r]! - rowLo) * midW;
      const b = (s1y.hi[r]! - rowLo) * midW;
      const t = s1y.w[r]!;
      const d = j * midW;
      for (let i = 0; i < midW; i++) {
        const v = rows[a + i]!;
        mid[d + i] = v + (rows[b + i]! - v) * t;
      }
    }
    const s2x = this.x.stage2;
    const s2y = this.y.stage2;
    if (!s2x && !s2y) {
      return { x0: wx.first, y0: wy.first, width: midW, height: midH, data: mid };
    }
    // Stage 2 from the stage-1 window to the output window; an axis without a second stage is the identity
    // (upscale.ts then skips stage 2 only when both axes match, and an identity tap reproduces the value).
    const outW = wx.last - wx.first + 1;
    const outH = wy.last - wy.first + 1;
    const h2 = new Float32Array(midH * outW);
    for (let r = 0; r < midH; r++) {
      const s = r * midW;
      const d = r * outW;
      for (let i = 0; i < outW; i++) {
        const j = wx.first + i;
        if (!s2x) {
          h2[d + i] = mid[s + (j - wx.mid0)]!;
          continue;
        }
        const a = mid[s + s2x.lo[j]! - wx.mid0]!;
        h2[d + i] = a + (mid[s + s2x.hi[j]! - wx.mid0]! - a) * s2x.w[j]!;
      }
    }
    const out = new Float32Array(outW * outH);
    for (let k = 0; k < outH; k++) {
      const j = wy.first + k;
      const d = k * outW;
      if (!s2y) {
        out.set(h2.subarray((j - wy.mid0) * outW, (j - wy.mid0 + 1) * outW), d);
        continue;
      }
      const a = (s2y.lo[j]! - wy.mid0) * outW;
      const b = (s2y.hi[j]! - wy.mid0) * outW;
      const t = s2y.w[j]!;
      for (let i = 0; i < outW; i++) {
        const v = h2[a + i]!;
        out[d + i] = v + (h2[b + i]! - v) * t;
      }
    }
    return { x0: wx.first, y0: wy.first, width: outW, height: outH, data: out };
  }
}
