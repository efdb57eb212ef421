import { MASK_THRESHOLD } from "../postprocess";
import { preprocessShape } from "../transforms";
import { SAM_IMAGE_SIZE, SAM_LOW_RES_SIZE } from "../types";

/** Cells per low-res candidate (256 x 256). */
export const LOW_RES_AREA = SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE;

/**
 * The part of the 256x256 low-res logits that covers the image (or crop) rather than the encoder's
 * zero padding: `ceil(resized / 4)` columns and rows, where `resized` is SAM's preprocess shape of the
 * image (longest side 1024, `int(x * s + 0.5)`). A low-res cell is 4x4 pixels of the 1024 frame, so
 * these are exactly the cells whose footprint overlaps the resized image; a partly covered last
 * row/column counts as a whole cell. Everything right of / below it is padding, which SAM's
 * postprocessing crops away, so it must not take part in the stability score either.
 */
export function lowResValidSize(imageWidth: number, imageHeight: number): { width: number; height: number } {
  const resized = preprocessShape(imageWidth, imageHeight);
  const cell = SAM_IMAGE_SIZE / SAM_LOW_RES_SIZE;
  return { width: Math.ceil(resized.width / cell), height: Math.ceil(resized.height / cell) };
}

/**
 * SAM's `calculate_stability_score` (IoU of the masks cut at `threshold ± offset`; the high mask lies
 * inside the low one, so IoU = count(> thr + off) / count(> thr - off)) on one 256x256 low-res candidate
 * starting at `offset`, over its valid `width x height` top-left region only. SAM computes it on the
 * logits upsampled to the crop's size; on the low-res grid every cell weighs the same, which is what lets
 * the generator drop unstable candidates before paying for any upsampling. An empty low mask gives 0
 * (SAM's 0/0 = NaN fails every `>=` test, so both reject it).
 */
export function lowResStabilityScore(
  logits: Float32Array,
  offset: number,
  validWidth: number,
  validHeight: number,
  stabilityOffset: number,
  threshold: number = MASK_THRESHOLD,
): number {
  if (offset + LOW_RES_AREA > logits.length) throw new RangeError("logits shorter than 256x256");
  if (validWidth > SAM_LOW_RES_SIZE || validHeight > SAM_LOW_RES_SIZE) {
    throw new RangeError(`valid region ${validWidth}x${validHeight} exceeds the 256x256 grid`);
  }
  const hi = threshold + stabilityOffset;
  const lo = threshold - stabilityOffset;
  let inter = 0;
  let union = 0;
  for (let y = 0; y < validHeight; y++) {
    const row = offset + y * SAM_LOW_RES_SIZE;
    for (let x = 0; x < validWidth; x++) {
      const v = logits[row + x]!;
      if (v > hi) inter++;
      if (v > lo) union++;
    }
  }
  return union === 0 ? 0 : inter / union;
}
