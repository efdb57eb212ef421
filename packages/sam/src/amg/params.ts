import { z } from "zod";

/**
 * Parameters of the automatic mask generator, named after SAM's `SamAutomaticMaskGenerator` arguments
 * (camelCase) with the same meaning. Defaults are SAM's, except the crop settings: one crop layer with
 * half the points per side is SAM's own "dense" setting (as its README's example and the SA-1B data engine
 * use), which this product runs by default. SAM's `point_grids` and `output_mode` are not offered: grids
 * always come from `pointsPerSide`, and masks always come back as COCO RLE.
 */
export const autoMaskParamsSchema = z.object({
  /** Points sampled along each side of the image (layer 0); `pointsPerSide²` prompts. */
  pointsPerSide: z.number().int().min(1).max(128).default(32),
  /** Point prompts per decoder run (SAM's `points_per_batch`; only changes speed and memory). */
  pointsPerBatch: z.number().int().min(1).max(1024).default(64),
  /** Keep candidates whose predicted IoU is strictly above this (SAM: `iou_preds > thresh`; 0 disables). */
  predIouThresh: z.number().min(0).max(1).default(0.88),
  /** Keep candidates whose stability score is at least this (SAM: `score >= thresh`; 0 disables). */
  stabilityScoreThresh: z.number().min(0).max(1).default(0.95),
  /** How far the cutoff moves (in logits, around SAM's mask threshold 0) for the stability score. */
  stabilityScoreOffset: z.number().min(0).max(100).default(1),
  /** Box IoU above which a mask is a duplicate of a better one within a crop (higher predicted IoU wins). */
  boxNmsThresh: z.number().min(0).max(1).default(0.7),
  /** Crop layers after the whole image; layer i has (2^i)² crops. 0 = whole image only. */
  cropNLayers: z.number().int().min(0).max(4).default(1),
  /** Box IoU above which masks from different crops are duplicates (the smaller crop's mask wins). */
  cropNmsThresh: z.number().min(0).max(1).default(0.7),
  /** Overlap of neighbouring crops in layer 1, as a fraction of the image's short side (scaled down per layer). */
  cropOverlapRatio: z
    .number()
    .min(0)
    .lt(1)
    .default(512 / 1500),
  /** Layer i samples `floor(pointsPerSide / factor^i)` points per side. */
  cropNPointsDownscaleFactor: z.number().int().min(1).max(16).default(2),
  /** > 0: fill holes and drop islands smaller than this many pixels, then dedupe again (SAM's postprocess). */
  minMaskRegionArea: z.number().int().min(0).default(0),
});

export type AutoMaskParams = z.infer<typeof autoMaskParamsSchema>;

export const DEFAULT_AUTO_MASK_PARAMS: AutoMaskParams = Object.freeze(autoMaskParamsSchema.parse({}));

/**
 * Points per side in each layer, exactly as SAM's `build_all_layer_point_grids`:
 * `int(n_per_side / (scale_per_layer ** i))`. Throws a RangeError when a layer would get no points
 * (SAM would crash on the empty grid), so a bad combination is reported before any work starts.
 */
export function pointsPerSideByLayer(
  params: Pick<AutoMaskParams, "pointsPerSide" | "cropNLayers" | "cropNPointsDownscaleFactor">,
): number[] {
  const out: number[] = [];
  for (let i = 0; i <= params.cropNLayers; i++) {
    const n = Math.trunc(params.pointsPerSide / params.cropNPointsDownscaleFactor ** i);
    if (n < 1) {
      throw new RangeError(
        `crop layer ${i} would get no points: pointsPerSide ${params.pointsPerSide} / cropNPointsDownscaleFactor ${params.cropNPointsDownscaleFactor}^${i} < 1`,
      );
    }
    out.push(n);
  }
  return out;
}
