/**
 * Threshold sweep for `bench:amg --sweep`: the generator's decoding half runs once per image at the loosest
 * thresholds of the sweep (`decodeCropProposals`), then the NMS half is replayed for every (predicted IoU,
 * stability) pair on the proposals that pass it. Filtering a kept proposal again at a stricter threshold is
 * exactly what a pass run at that threshold would have kept before NMS (both filters are per candidate and
 * the crop-edge filter does not depend on them), so every row equals a separate full run, at the cost of one.
 */
import { type AutoMaskParams, emptyFilterCounts, type MaskPatch, type Proposal } from "../src/amg";
import type { GroundTruth } from "../src/clicker";
import { type CropProposals, suppressDuplicates } from "../src/node";

export interface SweepSetting {
  predIouThresh: number;
  stabilityScoreThresh: number;
}

export interface SweepImageResult {
  /** Best IoU with the ground truth among the masks each setting keeps, in `settings` order. */
  bestIou: number[];
  masks: number[];
  /** Best IoU among every decoded proposal before NMS: what no NMS setting can beat. */
  oracleIou: number;
}

/** The settings of a sweep: every pair of the two lists. */
export function sweepGrid(predIous: readonly number[], stabilities: readonly number[]): SweepSetting[] {
  return predIous.flatMap((predIouThresh) =>
    stabilities.map((stabilityScoreThresh) => ({ predIouThresh, stabilityScoreThresh })),
  );
}

/** IoU of a patch (in the image frame) with the ground truth, ignored pixels left out of both sides. */
function patchIoU(gt: GroundTruth, patch: MaskPatch, gtArea: number): number {
  const { width: W } = gt.object;
  const object = gt.object.data;
  const ignore = gt.ignore?.data;
  let inter = 0;
  let predArea = 0;
  for (let y = 0; y < patch.height; y++) {
    const row = (patch.y0 + y) * W + patch.x0;
    const src = y * patch.width;
    for (let x = 0; x < patch.width; x++) {
      if (!patch.data[src + x]) continue;
      const i = row + x;
      if (ignore?.[i]) continue;
      predArea++;
      if (object[i]) inter++;
    }
  }
  const union = gtArea + predArea - inter;
  return union === 0 ? 0 : inter / union;
}

function groundTruthArea(gt: GroundTruth): number {
  let n = 0;
  for (let i = 0; i < gt.object.data.length; i++) if (gt.object.data[i]) n++;
  return n;
}

/**
 * Replays box NMS per crop and NMS across crops (`suppressDuplicates`, what the pass runs) for every
 * setting. Small-region cleanup is not replayed:
 * the sweep refuses `minMaskRegionArea > 0` (it would need the full masks of every setting).
 */
export function sweepImage(
  decoded: Pick<CropProposals, "crops" | "perCrop">,
  gt: GroundTruth,
  params: Pick<AutoMaskParams, "boxNmsThresh" | "cropNmsThresh" | "minMaskRegionArea">,
  settings: readonly SweepSetting[],
): SweepImageResult {
  if (params.minMaskRegionArea > 0) throw new RangeError("--sweep runs with minMaskRegionArea 0");
  const gtArea = groundTruthArea(gt);
  // IoU per proposal, computed once: finishCrop shifts patches but keeps their pixel arrays.
  const iouOf = new Map<Uint8Array, number>();
  let oracleIou = 0;
  for (const [i, crop] of decoded.crops.entries()) {
    for (const p of decoded.perCrop[i]!) {
      const shifted = { ...p.patch, x0: p.patch.x0 + crop.box[0], y0: p.patch.y0 + crop.box[1] };
      const iou = patchIoU(gt, shifted, gtArea);
      iouOf.set(p.patch.data, iou);
      oracleIou = Math.max(oracleIou, iou);
    }
  }
  const bestIou: number[] = [];
  const masks: number[] = [];
  for (const s of settings) {
    const passes = (p: Proposal) =>
      p.predictedIou > s.predIouThresh && p.stabilityScore >= s.stabilityScoreThresh;
    const perCrop = decoded.perCrop.map((proposals) => proposals.filter(passes));
    const final = suppressDuplicates({ crops: decoded.crops, perCrop }, params, emptyFilterCounts());
    bestIou.push(final.reduce((best, p) => Math.max(best, iouOf.get(p.patch.data) ?? 0), 0));
    masks.push(final.length);
  }
  return { bestIou, masks, oracleIou };
}
