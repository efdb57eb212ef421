import type { BinaryMask } from "@sas/sa1b";
import { inputScale, preprocessShape } from "./transforms";
import { SAM_IMAGE_SIZE, SAM_LOW_RES_SIZE, type SamPrompt } from "./types";

/** A tensor as plain data, so this module stays free of any ONNX Runtime import (browser and Node share it). */
export interface FeedTensor {
  data: Float32Array;
  dims: number[];
}

/** The SAM decoder's prompt inputs (image_embeddings is added by the caller, who owns the embedding). */
export interface PromptFeeds {
  point_coords: FeedTensor;
  point_labels: FeedTensor;
  mask_input: FeedTensor;
  has_mask_input: FeedTensor;
  orig_im_size: FeedTensor;
}

/** Labels as the SAM decoder reads them. */
export const LABEL_PADDING = -1;
export const LABEL_BACKGROUND = 0;
export const LABEL_FOREGROUND = 1;
export const LABEL_BOX_TOP_LEFT = 2;
export const LABEL_BOX_BOTTOM_RIGHT = 3;

const LOW_RES_AREA = SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE;

export interface FeedOptions {
  /**
   * A 256x256 buffer of zeros to use as mask_input when the prompt has none, so a hot loop does not
   * allocate 256 KiB per call. It is passed to the decoder as is and must stay all zeros.
   */
  zeroMask?: Float32Array;
}

/** Number of decoder points a prompt becomes (its clicks, plus 2 box corners or 1 padding point). */
export function decoderPointCount(prompt: SamPrompt): number {
  return prompt.points.length + (prompt.box ? 2 : 1);
}

function writePromptPoints(
  prompt: SamPrompt,
  sx: number,
  sy: number,
  coords: Float32Array,
  labels: Float32Array,
  offset: number,
  count: number,
): void {
  let n = offset;
  for (const p of prompt.points) {
    coords[2 * n] = p.x * sx;
    coords[2 * n + 1] = p.y * sy;
    labels[n] = p.label;
    n++;
  }
  if (prompt.box) {
    const { x0, y0, x1, y1 } = prompt.box;
    // Normalise the corner order so a box dragged up/left still gives top-left = label 2.
    coords[2 * n] = Math.min(x0, x1) * sx;
    coords[2 * n + 1] = Math.min(y0, y1) * sy;
    labels[n++] = LABEL_BOX_TOP_LEFT;
    coords[2 * n] = Math.max(x0, x1) * sx;
    coords[2 * n + 1] = Math.max(y0, y1) * sy;
    labels[n++] = LABEL_BOX_BOTTOM_RIGHT;
  }
  // Without a box SAM's prompt encoder appends one "not a point" (label -1, at 0,0); the ONNX export
  // expects the caller to do the same. Batched prompts with fewer points are padded the same way.
  while (n < offset + count) {
    coords[2 * n] = 0;
    coords[2 * n + 1] = 0;
    labels[n++] = LABEL_PADDING;
  }
}

function validatePrompt(prompt: SamPrompt): void {
  if (prompt.points.length === 0 && !prompt.box) {
    throw new RangeError("a SAM prompt needs at least one point or a box");
  }
  if (prompt.maskInput && prompt.maskInput.length !== LOW_RES_AREA) {
    throw new RangeError(
      `maskInput must be ${SAM_LOW_RES_SIZE}x${SAM_LOW_RES_SIZE}, got ${prompt.maskInput.length}`,
    );
  }
}

/**
 * Turns one prompt in original-image pixels into the decoder's inputs: points scaled into the 1024 frame,
 * SAM's label convention, the dense prompt (previous low-res logits) and the original size as [h, w].
 */
export function promptToFeeds(
  prompt: SamPrompt,
  imageWidth: number,
  imageHeight: number,
  options: FeedOptions = {},
): PromptFeeds {
  validatePrompt(prompt);
  const n = decoderPointCount(prompt);
  const { sx, sy } = inputScale(imageWidth, imageHeight);
  const coords = new Float32Array(2 * n);
  const labels = new Float32Array(n);
  writePromptPoints(prompt, sx, sy, coords, labels, 0, n);
  const maskInput = prompt.maskInput ?? options.zeroMask ?? new Float32Array(LOW_RES_AREA);
  return {
    point_coords: { data: coords, dims: [1, n, 2] },
    point_labels: { data: labels, dims: [1, n] },
    mask_input: { data: maskInput, dims: [1, 1, SAM_LOW_RES_SIZE, SAM_LOW_RES_SIZE] },
    has_mask_input: { data: Float32Array.of(prompt.maskInput ? 1 : 0), dims: [1] },
    orig_im_size: { data: Float32Array.of(imageHeight, imageWidth), dims: [2] },
  };
}

/**
 * Several prompts against one embedding in one decoder run, as [B, N, 2] / [B, N]. Only for a decoder
 * whose point inputs have a symbolic leading dimension (see `deriveMultimaskDecoder`). Prompts with
 * fewer points are padded with label -1 points, which SAM treats as "not a point" — close to, but not
 * bit-identical with, decoding each prompt alone. mask_input is [1, 1, 256, 256] in the graph, so
 * prompts in a batch cannot carry their own dense prompt.
 */
export function promptsToBatchFeeds(
  prompts: readonly SamPrompt[],
  imageWidth: number,
  imageHeight: number,
  options: FeedOptions = {},
): PromptFeeds {
  if (prompts.length === 0) throw new RangeError("a batch needs at least one prompt");
  let n = 0;
  for (const p of prompts) {
    validatePrompt(p);
    if (p.maskInput)
      throw new RangeError("batched prompts cannot carry maskInput (mask_input is [1,1,256,256])");
    n = Math.max(n, decoderPointCount(p));
  }
  const b = prompts.length;
  const { sx, sy } = inputScale(imageWidth, imageHeight);
  const coords = new Float32Array(b * n * 2);
  const labels = new Float32Array(b * n);
  prompts.forEach((p, i) => {
    writePromptPoints(p, sx, sy, coords, labels, i * n, n);
  });
  return {
    point_coords: { data: coords, dims: [b, n, 2] },
    point_labels: { data: labels, dims: [b, n] },
    mask_input: {
      data: options.zeroMask ?? new Float32Array(LOW_RES_AREA),
      dims: [1, 1, SAM_LOW_RES_SIZE, SAM_LOW_RES_SIZE],
    },
    has_mask_input: { data: Float32Array.of(0), dims: [1] },
    orig_im_size: { data: Float32Array.of(imageHeight, imageWidth), dims: [2] },
  };
}

/**
 * Logit magnitude given to a user-drawn mask. SAM's own low-res logits for a confident mask sit
 * roughly in the ±10…±30 range, so ±20 reads to the decoder like a confident previous prediction
 * without saturating anything; the sign is all the prompt encoder's conv layers really key on.
 */
export const DRAWN_MASK_LOGIT = 20;

/**
 * Converts a rough user-drawn mask (original resolution) into a 256x256 dense prompt in the padded low-res
 * frame. Each low-res cell gets the fraction f of its area covered by the mask (area averaging, so thin
 * strokes are not lost as they would be by point sampling), mapped linearly to logits
 * `logit * (2f - 1)`: fully inside +logit, fully outside -logit, edges in between. The padding area is
 * background (-logit).
 */
export function maskToLowResPrompt(mask: BinaryMask, logit: number = DRAWN_MASK_LOGIT): Float32Array {
  const { width, height, data } = mask;
  if (width < 1 || height < 1) throw new RangeError("mask must not be empty");
  const resized = preprocessShape(width, height);
  // Original pixels per low-res cell along each axis.
  const cellW = (width / resized.width) * (SAM_IMAGE_SIZE / SAM_LOW_RES_SIZE);
  const cellH = (height / resized.height) * (SAM_IMAGE_SIZE / SAM_LOW_RES_SIZE);
  const xWeights = overlapWeights(width, cellW);
  const yWeights = overlapWeights(height, cellH);
  // Pass 1: for each original row, covered length per low-res column.
  const rowSums = new Float32Array(height * SAM_LOW_RES_SIZE);
  for (let y = 0; y < height; y++) {
    const rowOff = y * width;
    const outOff = y * SAM_LOW_RES_SIZE;
    for (const w of xWeights) {
      let s = 0;
      for (let k = 0; k < w.weights.length; k++) s += data[rowOff + w.start + k]! ? w.weights[k]! : 0;
      rowSums[outOff + w.cell] = s;
    }
  }
  const out = new Float32Array(LOW_RES_AREA).fill(-logit);
  const cellArea = cellW * cellH;
  for (const wy of yWeights) {
    for (let cx = 0; cx < SAM_LOW_RES_SIZE; cx++) {
      let s = 0;
      for (let k = 0; k < wy.weights.length; k++)
        s += rowSums[(wy.start + k) * SAM_LOW_RES_SIZE + cx]! * wy.weights[k]!;
      const f = Math.min(1, s / cellArea);
      out[wy.cell * SAM_LOW_RES_SIZE + cx] = logit * (2 * f - 1);
    }
  }
  return out;
}

interface CellWeights {
  cell: number;
  start: number;
  weights: number[];
}

/** For each low-res cell that overlaps the image, which source pixels it covers and by how much. */
function overlapWeights(length: number, cell: number): CellWeights[] {
  const out: CellWeights[] = [];
  for (let c = 0; c < SAM_LOW_RES_SIZE; c++) {
    const a = c * cell;
    const b = (c + 1) * cell;
    if (a >= length) break;
    const start = Math.floor(a);
    const end = Math.min(length, Math.ceil(b));
    const weights: number[] = [];
    for (let p = start; p < end; p++) weights.push(Math.max(0, Math.min(b, p + 1) - Math.max(a, p)));
    out.push({ cell: c, start, weights });
  }
  return out;
}
