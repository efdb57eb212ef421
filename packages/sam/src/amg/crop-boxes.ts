/** [x0, y0, x1, y1] with x1/y1 exclusive, as SAM's crop boxes (slicing bounds `image[y0:y1, x0:x1]`). */
export type CropBoxXYXY = [number, number, number, number];

export interface CropBox {
  box: CropBoxXYXY;
  /** 0 for the whole image, i for the (2^i)² crops of layer i. */
  layer: number;
}

/**
 * SAM's `generate_crop_boxes`. Layer 0 is the whole image; layer i (1-based) has `n = 2^i` crops per
 * side overlapping by `int(overlap_ratio * short_side * (2 / n))` pixels, each `ceil((overlap * (n - 1) +
 * side) / n)` long, starting at `int((crop_len - overlap) * k)` and clipped to the image. Crops come in
 * SAM's order: layer by layer, x-start outer and y-start inner (`itertools.product(x0s, y0s)`).
 * The arithmetic is done in the same order as SAM's Python so float truncation lands on the same pixel.
 */
export function generateCropBoxes(
  imageWidth: number,
  imageHeight: number,
  nLayers: number,
  overlapRatio: number,
): CropBox[] {
  if (!(Number.isInteger(imageWidth) && Number.isInteger(imageHeight) && imageWidth > 0 && imageHeight > 0)) {
    throw new RangeError(`image size must be positive integers, got ${imageWidth}x${imageHeight}`);
  }
  const crops: CropBox[] = [{ box: [0, 0, imageWidth, imageHeight], layer: 0 }];
  const shortSide = Math.min(imageWidth, imageHeight);
  const cropLen = (origLen: number, nCrops: number, overlap: number) =>
    Math.ceil((overlap * (nCrops - 1) + origLen) / nCrops);
  for (let layer = 1; layer <= nLayers; layer++) {
    const nCrops = 2 ** layer;
    const overlap = Math.trunc(overlapRatio * shortSide * (2 / nCrops));
    const cropW = cropLen(imageWidth, nCrops, overlap);
    const cropH = cropLen(imageHeight, nCrops, overlap);
    for (let i = 0; i < nCrops; i++) {
      const x0 = Math.trunc((cropW - overlap) * i);
      for (let j = 0; j < nCrops; j++) {
        const y0 = Math.trunc((cropH - overlap) * j);
        crops.push({
          box: [x0, y0, Math.min(x0 + cropW, imageWidth), Math.min(y0 + cropH, imageHeight)],
          layer,
        });
      }
    }
  }
  return crops;
}

/** A crop box as SA-1B's `crop_box` field: [x, y, w, h] (SAM's `box_xyxy_to_xywh` of the exclusive box). */
export function cropBoxToXywh(box: CropBoxXYXY): [number, number, number, number] {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}
