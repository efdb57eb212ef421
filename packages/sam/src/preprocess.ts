import { SAM_IMAGE_SIZE } from "./types";

/** SAM's pixel normalisation, on the 0-255 scale (ImageNet mean/std). */
export const PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const PIXEL_STD = [58.395, 57.12, 57.375] as const;

/** RGB pixels already resized to `preprocessShape(original)`, interleaved RGBRGB…, row-major. */
export interface ResizedRgb {
  width: number;
  height: number;
  /** length width * height * 3 */
  data: Uint8Array;
}

/**
 * Builds the encoder input: a [1, 3, 1024, 1024] float32 NCHW tensor, normalised with SAM's mean/std
 * and zero-padded bottom/right. SAM pads *after* normalising, so padding is 0 in normalised units
 * (i.e. the mean colour), not black. Pass `out` to reuse a buffer across images (it is fully overwritten).
 */
export function preprocessImage(rgb: ResizedRgb, out?: Float32Array): Float32Array {
  const S = SAM_IMAGE_SIZE;
  const { width: w, height: h, data } = rgb;
  if (w > S || h > S || w < 1 || h < 1 || Math.max(w, h) !== S) {
    throw new RangeError(`resized image must have its longest side ${S}, got ${w}x${h}`);
  }
  if (data.length !== w * h * 3) {
    throw new RangeError(`expected ${w * h * 3} RGB bytes for ${w}x${h}, got ${data.length}`);
  }
  const plane = S * S;
  const tensor = out ?? new Float32Array(3 * plane);
  if (tensor.length !== 3 * plane) throw new RangeError(`output buffer must hold ${3 * plane} floats`);
  if (out) tensor.fill(0);
  // A lookup per channel replaces a subtract and a divide per value with one indexed read.
  const luts = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (v - PIXEL_MEAN[c as 0 | 1 | 2]) / PIXEL_STD[c as 0 | 1 | 2];
    return lut;
  });
  const [lr, lg, lb] = luts as [Float32Array, Float32Array, Float32Array];
  for (let y = 0; y < h; y++) {
    let src = y * w * 3;
    const row = y * S;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      tensor[i] = lr[data[src]!]!;
      tensor[plane + i] = lg[data[src + 1]!]!;
      tensor[2 * plane + i] = lb[data[src + 2]!]!;
      src += 3;
    }
  }
  return tensor;
}
