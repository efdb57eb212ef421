import { SAM_IMAGE_SIZE, SAM_LOW_RES_SIZE } from "./types";

/**
 * Coordinate frames used around SAM:
 * - original: the image's pixels after EXIF orientation (what users click on and masks are stored in);
 * - input (1024 frame): the original resized so its longest side is 1024, then padded bottom/right to
 *   1024x1024 (the encoder's input; the decoder's point_coords live here);
 * - low-res (256 frame): the 1024 frame scaled by 1/4 (mask_input and low_res_masks).
 */

export interface Size {
  width: number;
  height: number;
}

/**
 * The resized (unpadded) size inside the 1024 frame, rounded exactly as SAM's
 * `ResizeLongestSide.get_preprocess_shape`: `int(x * scale + 0.5)` with scale = 1024 / max(h, w).
 * The decoder graph rounds `orig_im_size` the same way (floor(x + 0.5)) to crop its padding, so using any
 * other rounding would misalign the mask by a pixel.
 */
export function preprocessShape(width: number, height: number, longSide: number = SAM_IMAGE_SIZE): Size {
  if (!(width > 0 && height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new RangeError(`image size must be positive, got ${width}x${height}`);
  }
  const scale = (longSide * 1.0) / Math.max(width, height);
  // SAM would give 0 for a side that scales below half a pixel (aspect ratio beyond 2048:1); keep one row.
  return {
    width: Math.max(1, Math.floor(width * scale + 0.5)),
    height: Math.max(1, Math.floor(height * scale + 0.5)),
  };
}

/** Per-axis factors from original pixels to the 1024 frame (as SAM's `apply_coords`, new/old per axis). */
export function inputScale(width: number, height: number): { sx: number; sy: number } {
  const resized = preprocessShape(width, height);
  return { sx: resized.width / width, sy: resized.height / height };
}

/** Original-pixel point -> 1024 frame. No +0.5: the decoder graph adds the pixel-centre offset itself. */
export function toInputCoords(
  x: number,
  y: number,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number } {
  const { sx, sy } = inputScale(imageWidth, imageHeight);
  return { x: x * sx, y: y * sy };
}

/** 1024-frame point -> original pixels; exact inverse of `toInputCoords`. */
export function fromInputCoords(
  x: number,
  y: number,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number } {
  const { sx, sy } = inputScale(imageWidth, imageHeight);
  return { x: x / sx, y: y / sy };
}

/** Original-pixel point -> 256 frame (the 1024 frame divided by 4). */
export function toLowResCoords(
  x: number,
  y: number,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number } {
  const p = toInputCoords(x, y, imageWidth, imageHeight);
  const f = SAM_LOW_RES_SIZE / SAM_IMAGE_SIZE;
  return { x: p.x * f, y: p.y * f };
}

/** 256-frame point -> original pixels. */
export function fromLowResCoords(
  x: number,
  y: number,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number } {
  const f = SAM_IMAGE_SIZE / SAM_LOW_RES_SIZE;
  return fromInputCoords(x * f, y * f, imageWidth, imageHeight);
}

/**
 * The part of the 256 frame that holds image content (the rest is padding), as a fractional size:
 * the resized shape divided by 4. Low-res logits outside it are meaningless.
 */
export function lowResContentSize(imageWidth: number, imageHeight: number): Size {
  const r = preprocessShape(imageWidth, imageHeight);
  const f = SAM_LOW_RES_SIZE / SAM_IMAGE_SIZE;
  return { width: r.width * f, height: r.height * f };
}
