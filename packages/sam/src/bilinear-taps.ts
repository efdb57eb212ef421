/**
 * Source taps of a 1-D half-pixel bilinear resize (no align_corners), as SAM's `postprocess_masks` uses:
 * shared by the full-size upscale (upscale.ts) and the windowed one (amg/upscale-window.ts), whose values
 * must stay bit-identical to each other.
 */

export interface BilinearTaps {
  lo: Int32Array;
  hi: Int32Array;
  w: Float32Array;
}

/** Taps of a resize from `inSize` to `outSize`, for the first `count` outputs. */
export function bilinearTaps(inSize: number, outSize: number, count: number): BilinearTaps {
  const scale = inSize / outSize;
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  const w = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const src = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
    const l = Math.floor(src);
    lo[i] = l;
    hi[i] = Math.min(l + 1, inSize - 1);
    w[i] = src - l;
  }
  return { lo, hi, w };
}
