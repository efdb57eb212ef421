/**
 * A binary mask in row-major order (as images and SAM's decoder output are laid out):
 * pixel (x, y) is `data[y * width + x]`, 1 for the object and 0 elsewhere.
 * COCO RLE is column-major; the conversion lives in rle.ts.
 */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export function createMask(width: number, height: number): BinaryMask {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`mask size must be non-negative integers, got ${width}x${height}`);
  }
  return { width, height, data: new Uint8Array(width * height) };
}
