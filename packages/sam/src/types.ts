import type { BinaryMask } from "@sas/sa1b";

/** SAM's encoder input frame: longest side resized to this, padded bottom/right to a square. */
export const SAM_IMAGE_SIZE = 1024;
/** Side of the decoder's low-resolution logits (mask_input / low_res_masks). */
export const SAM_LOW_RES_SIZE = 256;

/** 1 = foreground click, 0 = background click (box corners are encoded separately as labels 2 and 3). */
export type PointLabel = 0 | 1;

/** A click in original-image pixel coordinates (x right, y down, pixel centres at +0.5 are not added). */
export interface PointPrompt {
  x: number;
  y: number;
  label: PointLabel;
}

/** An axis-aligned box in original-image pixels, (x0, y0) top-left and (x1, y1) bottom-right. */
export interface BoxPrompt {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Everything the decoder can be prompted with for one object. */
export interface SamPrompt {
  points: PointPrompt[];
  box?: BoxPrompt;
  /**
   * Dense prompt: 256x256 logits in the padded 1024 frame scaled by 1/4 — the previous call's
   * low-res logits for a refinement click, or a rough user-drawn mask converted by `maskToLowResPrompt`.
   */
  maskInput?: Float32Array;
}

/** An image embedding as stored and sent to the browser: [1, 256, 64, 64] in float32. */
export interface ImageEmbedding {
  data: Float32Array;
  dims: readonly [1, 256, 64, 64];
  /** Original image size (after EXIF orientation) the embedding was computed from. */
  imageWidth: number;
  imageHeight: number;
}

/** One candidate mask from the decoder, already thresholded at original resolution. */
export interface MaskCandidate {
  mask: BinaryMask;
  /** The decoder's predicted IoU for this candidate. */
  predictedIou: number;
  /** 256x256 low-res logits, to feed back as `maskInput` for the next refinement click. */
  lowResLogits: Float32Array;
}
