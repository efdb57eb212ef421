import { encodeMask } from "@sas/sa1b";
import { maskBoxToXywh } from "./boxes";
import { cropBoxToXywh } from "./crop-boxes";
import type { Proposal } from "./crop-proposals";
import { patchToMask } from "./mask-patch";
import type { AutoMask } from "./types";

/**
 * SAM's output record for one mask (`generate`'s `curr_anns`): the whole-image mask as COCO RLE, SAM's
 * xywh box (inclusive x1/y1, `box_xyxy_to_xywh`), area, predicted IoU, stability score, the prompt point
 * in image pixels and the crop box as xywh. The RLE is made here, once per final mask.
 */
export function toAutoMask(p: Proposal, imageWidth: number, imageHeight: number): AutoMask {
  return {
    rle: encodeMask(patchToMask(p.patch, imageWidth, imageHeight)),
    bbox: maskBoxToXywh(p.box),
    area: p.area,
    predictedIou: p.predictedIou,
    stabilityScore: p.stabilityScore,
    pointCoords: [[p.point[0], p.point[1]]],
    cropBox: cropBoxToXywh(p.cropBox),
  };
}
