import { isBoxNearCropEdge, type MaskBoxXYXY, uncropBox } from "./boxes";
import type { CropBoxXYXY } from "./crop-boxes";
import type { FilterCounts } from "./filter-counts";
import { LOW_RES_AREA, lowResStabilityScore, lowResValidSize } from "./low-res";
import { type MaskPatch, shiftPatch, type ThresholdedPatch, thresholdToPatch } from "./mask-patch";
import { nonMaxSuppression } from "./nms";
import type { AutoMaskParams } from "./params";
import { LowResUpscaler } from "./upscale-window";

/** A mask that survived the filters so far; patch, box and point share one frame (crop, then image). */
export interface Proposal {
  patch: MaskPatch;
  /** SAM's inclusive mask box. */
  box: MaskBoxXYXY;
  area: number;
  predictedIou: number;
  /** SAM's stability score, on the full-resolution logits (what SAM filters and reports). */
  stabilityScore: number;
  point: [number, number];
  cropBox: CropBoxXYXY;
}

/** The crop being processed and the image it belongs to. */
export interface CropFrame {
  cropBox: CropBoxXYXY;
  imageWidth: number;
  imageHeight: number;
}

const EMPTY: ThresholdedPatch = {
  patch: { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) },
  box: [0, 0, 0, 0],
  area: 0,
  stabilityScore: 0,
};

/** Mask tokens per point in the decoder output; SAM's multimask output is tokens 1-3 (0 is the single mask). */
const TOKENS = 4;
const MULTIMASK_TOKENS = [1, 2, 3] as const;

/**
 * How far below the stability threshold a candidate's low-res score may be and still be upsampled for
 * SAM's exact (full-resolution) test. The low-res score is the same ratio on a coarser grid (a cell is 4x4
 * pixels of the 1024 frame), so it wobbles around the exact one, mostly for small masks: on dogs.jpg the two
 * differed by at most 0.017 among candidates scoring above 0.9. The margin keeps the cheap pre-test to
 * rejecting what the exact test would reject too; the auto-mask test checks the result against SAM's
 * semantics computed entirely at full resolution.
 */
export const LOW_RES_STABILITY_MARGIN = 0.05;

export type BatchFilterParams = Pick<
  AutoMaskParams,
  "predIouThresh" | "stabilityScoreThresh" | "stabilityScoreOffset"
>;

/**
 * SAM's `_process_batch` on one decoder run's low-res outputs, for n points of one crop:
 * 1. the three multimask candidates per point, in SAM's order (point-major), are the candidates;
 * 2. predicted IoU strictly above `predIouThresh` (skipped when it is 0, as in SAM);
 * 3. stability: first a pre-test on the valid region of the 256x256 logits (`lowResValidSize`), free of any
 *    upsampling, at `stabilityScoreThresh - LOW_RES_STABILITY_MARGIN`; the survivors are upsampled to the
 *    crop size exactly as SAM's postprocessing (`upscaleLowResLogits`, computed only on the window that can
 *    matter, see `LowResUpscaler`) and pass SAM's own test there, score >= thresh (both skipped when the
 *    threshold is 0, as in SAM);
 * 4. threshold at 0, SAM's inclusive box; drop masks whose box is near a crop edge that is not an image
 *    edge (`isBoxNearCropEdge`). An empty mask is dropped here too: SAM's stability is NaN for it, which
 *    fails any threshold, and an empty mask cannot be stored.
 * Counts of what is left after each step are added to `counts`. Proposals stay in the crop's frame.
 */
export function batchProposals(
  decoded: { lowResLogits: Float32Array; iou: Float32Array },
  points: Float32Array,
  frame: CropFrame,
  params: BatchFilterParams,
  counts: FilterCounts,
): Proposal[] {
  const n = points.length / 2;
  if (decoded.iou.length !== n * TOKENS || decoded.lowResLogits.length !== n * TOKENS * LOW_RES_AREA) {
    throw new RangeError(
      `decoder returned ${decoded.iou.length} IoUs and ${decoded.lowResLogits.length} logits for ${n} points`,
    );
  }
  const [cx0, cy0, cx1, cy1] = frame.cropBox;
  const cropW = cx1 - cx0;
  const cropH = cy1 - cy0;
  const valid = lowResValidSize(cropW, cropH);
  const checkStability = params.stabilityScoreThresh > 0;
  const preThreshold = params.stabilityScoreThresh - LOW_RES_STABILITY_MARGIN;
  const upscaler = new LowResUpscaler(cropW, cropH);
  const out: Proposal[] = [];
  for (let p = 0; p < n; p++) {
    for (const token of MULTIMASK_TOKENS) {
      const k = p * TOKENS + token;
      counts.candidates++;
      const predictedIou = decoded.iou[k]!;
      if (params.predIouThresh > 0 && !(predictedIou > params.predIouThresh)) continue;
      counts.predIou++;
      const offset = k * LOW_RES_AREA;
      if (checkStability) {
        const rough = lowResStabilityScore(
          decoded.lowResLogits,
          offset,
          valid.width,
          valid.height,
          params.stabilityScoreOffset,
        );
        if (!(rough >= preThreshold)) continue;
      }
      // Only the window of pixels that can be above -offset is upsampled: the rest is outside the mask
      // and both stability masks, so mask, box, area and stability are those of the full upsampling.
      const window = upscaler.upscale(decoded.lowResLogits, offset, -params.stabilityScoreOffset);
      const t = window
        ? thresholdToPatch(
            window.data,
            window.width,
            window.height,
            params.stabilityScoreOffset,
            window.x0,
            window.y0,
          )
        : EMPTY;
      if (checkStability && !(t.stabilityScore >= params.stabilityScoreThresh)) continue;
      counts.stability++;
      if (t.area === 0) continue;
      if (isBoxNearCropEdge(t.box, frame.cropBox, frame.imageWidth, frame.imageHeight)) continue;
      counts.cropEdge++;
      out.push({
        patch: t.patch,
        box: t.box,
        area: t.area,
        predictedIou,
        stabilityScore: t.stabilityScore,
        point: [points[2 * p]!, points[2 * p + 1]!],
        cropBox: frame.cropBox,
      });
    }
  }
  return out;
}

/**
 * The end of SAM's `_process_crop`: box NMS within the crop (scores = predicted IoU, threshold
 * `boxNmsThresh`), then boxes, points and masks moved from the crop's frame to the image's.
 */
export function finishCrop(
  proposals: readonly Proposal[],
  cropBox: CropBoxXYXY,
  boxNmsThresh: number,
  counts: FilterCounts,
): Proposal[] {
  const keep = nonMaxSuppression(
    proposals.map((p) => p.box),
    proposals.map((p) => p.predictedIou),
    boxNmsThresh,
  );
  counts.boxNms += keep.length;
  return keep.map((i) => {
    const p = proposals[i]!;
    return {
      ...p,
      patch: shiftPatch(p.patch, cropBox[0], cropBox[1]),
      box: uncropBox(p.box, cropBox),
      point: [p.point[0] + cropBox[0], p.point[1] + cropBox[1]],
    };
  });
}
