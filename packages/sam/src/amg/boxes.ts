import type { CropBoxXYXY } from "./crop-boxes";

/**
 * A mask's box as SAM's `batched_mask_to_box`: [x0, y0, x1, y1] where x1/y1 are the *last* object column
 * and row (inclusive), so a one-pixel mask is [x, y, x, y]; an empty mask is [0, 0, 0, 0].
 * Box NMS and the crop-edge test use these numbers as they are, exactly as SAM does.
 */
export type MaskBoxXYXY = [number, number, number, number];

/** SA-1B / SAM output box: [x0, y0, x1 - x0, y1 - y0] of the inclusive box (one pixel narrower than COCO's). */
export type SamBboxXYWH = [number, number, number, number];

/** SAM's `box_xyxy_to_xywh` on a mask box. */
export function maskBoxToXywh(box: MaskBoxXYXY): SamBboxXYWH {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}

/** SAM's `uncrop_boxes_xyxy`: crop frame -> image frame. */
export function uncropBox(box: MaskBoxXYXY, crop: CropBoxXYXY): MaskBoxXYXY {
  return [box[0] + crop[0], box[1] + crop[1], box[2] + crop[0], box[3] + crop[1]];
}

/** SAM's `uncrop_points`: crop frame -> image frame. */
export function uncropPoint(x: number, y: number, crop: CropBoxXYXY): [number, number] {
  return [x + crop[0], y + crop[1]];
}

/** SAM's `is_box_near_crop_edge` tolerance in pixels. */
export const CROP_EDGE_TOLERANCE = 20;

/**
 * SAM's `is_box_near_crop_edge`: the mask's box (in the crop's frame, uncropped here) has a side within
 * `atol` pixels of the matching side of the crop box, and that crop side is not also within `atol` of the
 * image's side. Such a mask is probably cut off by the crop, so SAM drops it. Comparisons are
 * `torch.isclose(..., atol, rtol=0)`: |a - b| <= atol. As in SAM the inclusive mask box is compared with the
 * exclusive crop/image boxes (x1 vs. width), which only moves the tolerance by one pixel.
 */
export function isBoxNearCropEdge(
  boxInCrop: MaskBoxXYXY,
  crop: CropBoxXYXY,
  imageWidth: number,
  imageHeight: number,
  atol: number = CROP_EDGE_TOLERANCE,
): boolean {
  const box = uncropBox(boxInCrop, crop);
  const image = [0, 0, imageWidth, imageHeight];
  for (let k = 0; k < 4; k++) {
    const nearCrop = Math.abs(box[k]! - crop[k]!) <= atol;
    const nearImage = Math.abs(box[k]! - image[k]!) <= atol;
    if (nearCrop && !nearImage) return true;
  }
  return false;
}
