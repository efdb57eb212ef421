/**
 * A binary mask in row-major order (as images and SAM's decoder output are laid out):
 * pixel (x, y) is `data[y * width + x]`, 1 for the object and 0 elsewhere.
 * COCO RLE is column-major; the conversion lives in rle.ts.
 *
 * Functions in this package treat any non-zero byte as "object", so a 0/255 mask works too.
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

/** Throws a RangeError unless `mask` has integer dimensions and `data.length === width * height`. */
export function assertValidMask(mask: BinaryMask): void {
  const { width, height, data } = mask;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`mask size must be non-negative integers, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array)) {
    throw new RangeError("mask data must be a Uint8Array");
  }
  if (data.length !== width * height) {
    throw new RangeError(
      `mask data has ${data.length} bytes but a ${width}x${height} mask needs ${width * height}`,
    );
  }
}

/** Number of object (non-zero) pixels. */
export function maskArea(mask: BinaryMask): number {
  assertValidMask(mask);
  const { data } = mask;
  let area = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0) area++;
  }
  return area;
}
