/**
 * Low-res logits -> original-resolution logits, exactly as SAM's `postprocess_masks` (and the stock ONNX
 * decoder's Resize chain): bilinear upsample 256 -> 1024 (half-pixel centres, no align_corners), crop the
 * padding away, bilinear resize to the original size. The browser decodes at 256x256 for speed and runs
 * this once, on accept, so the saved mask is the one the stock decoder would have produced.
 */

import { type BilinearTaps, bilinearTaps } from "./bilinear-taps";
import { preprocessShape } from "./transforms";
import { SAM_IMAGE_SIZE, SAM_LOW_RES_SIZE } from "./types";

/** Separable bilinear resize of a row-major `inW x inH` plane (read from `offset`) to `outW x outH`. */
function resize(
  src: Float32Array,
  offset: number,
  inW: number,
  inH: number,
  x: BilinearTaps,
  y: BilinearTaps,
  outW: number,
  outH: number,
): Float32Array {
  const rows = new Float32Array(inH * outW);
  for (let r = 0; r < inH; r++) {
    const s = offset + r * inW;
    const d = r * outW;
    for (let i = 0; i < outW; i++) {
      const a = src[s + x.lo[i]!]!;
      rows[d + i] = a + (src[s + x.hi[i]!]! - a) * x.w[i]!;
    }
  }
  const out = new Float32Array(outW * outH);
  for (let j = 0; j < outH; j++) {
    const a = y.lo[j]! * outW;
    const b = y.hi[j]! * outW;
    const t = y.w[j]!;
    const d = j * outW;
    for (let i = 0; i < outW; i++) {
      const v = rows[a + i]!;
      out[d + i] = v + (rows[b + i]! - v) * t;
    }
  }
  return out;
}

/**
 * One candidate's 256x256 logits (starting at `offset`) as logits at the original image size,
 * row-major `imageWidth * imageHeight`. Threshold at 0 for the mask; feed to `logitsToMaskStats`.
 */
export function upscaleLowResLogits(
  lowRes: Float32Array,
  imageWidth: number,
  imageHeight: number,
  offset = 0,
): Float32Array {
  const n = SAM_LOW_RES_SIZE;
  if (offset + n * n > lowRes.length) throw new RangeError("low-res logits shorter than 256x256");
  const crop = preprocessShape(imageWidth, imageHeight);
  // Stage 1: 256 -> 1024, but only the rows and columns inside the crop are ever read.
  const frame = resize(
    lowRes,
    offset,
    n,
    n,
    bilinearTaps(n, SAM_IMAGE_SIZE, crop.width),
    bilinearTaps(n, SAM_IMAGE_SIZE, crop.height),
    crop.width,
    crop.height,
  );
  if (crop.width === imageWidth && crop.height === imageHeight) return frame;
  // Stage 2: the cropped frame -> original size.
  return resize(
    frame,
    0,
    crop.width,
    crop.height,
    bilinearTaps(crop.width, imageWidth, imageWidth),
    bilinearTaps(crop.height, imageHeight, imageHeight),
    imageWidth,
    imageHeight,
  );
}
