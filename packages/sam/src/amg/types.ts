import type { CocoRle } from "@sas/sa1b";
import type { ImageEmbedding } from "../types";

/** One mask of an automatic pass, with the fields SA-1B stores for it. */
export interface AutoMask {
  /** COCO compressed RLE over the whole image, size [h, w]. */
  rle: CocoRle;
  /** SAM/SA-1B convention [x0, y0, x1 - x0, y1 - y0] with x1/y1 the last mask pixel (inclusive). */
  bbox: [number, number, number, number];
  area: number;
  predictedIou: number;
  stabilityScore: number;
  /** The prompt point, in original image pixels. */
  pointCoords: [number, number][];
  /** [x, y, w, h] of the crop it came from (the whole image for layer 0). */
  cropBox: [number, number, number, number];
}

export interface AutoMaskStats {
  /** Proposals left after each stage, in order (see `FILTER_STAGES`). */
  filterCounts: Record<string, number>;
  crops: number;
  points: number;
  encodeMs: number;
  decodeMs: number;
  totalMs: number;
}

/** What the generator needs from a decoder: single-point prompts (+ SAM's padding point), multimask, low-res only. */
export interface PointDecoder {
  /**
   * points: n*2 floats (x, y) in the embedding's original-image frame. Returns n*4*256*256 low-res logits
   * (index 0 the single-mask token, 1-3 the multimask candidates) and n*4 IoU predictions.
   */
  decodePoints(
    embedding: ImageEmbedding,
    points: Float32Array,
  ): Promise<{ lowResLogits: Float32Array; iou: Float32Array }>;
}
