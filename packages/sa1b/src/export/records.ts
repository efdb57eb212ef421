/**
 * One stored mask -> one SA-1B annotation record: COCO compressed RLE, SAM's bbox convention
 * ([x0, y0, x1 - x0, y1 - y0] over the inclusive pixel extent, as SAM's automatic mask generator and
 * Mask.bbox write it), area, scores, prompt points and crop box. Geometry is always recomputed from the
 * mask that is written, so bbox and area match the exported pixels also after downsampling.
 */
import { decodeRle, encodeMask, type RleInput, rleArea, rleToBbox, toCocoRle } from "../rle";
import type { Sa1bExportAnnotation, Sa1bMaskSource, Sa1bStage } from "../sa1b-file";
import { type ReleaseSize, resizeMaskArea, scalePoint, scaleXywh } from "./resize";

export type Xywh = [x: number, y: number, w: number, h: number];

/** What export reads of a stored mask. */
export interface ExportMaskInput {
  rle: RleInput;
  predictedIou: number | null;
  stabilityScore: number | null;
  pointCoords: readonly (readonly [number, number])[];
  /** `[x, y, w, h]`; empty or missing for masks not made in a crop (the whole image then). */
  cropBox: readonly number[];
  source: Sa1bMaskSource;
  stage: Sa1bStage;
  label: string;
}

/** SAM's box over a mask's pixels: COCO's whole-pixel box with one pixel less in width and height. */
export function samBbox(rle: RleInput): Xywh {
  const [x, y, w, h] = rleToBbox(rle);
  return w === 0 ? [0, 0, 0, 0] : [x, y, w - 1, h - 1];
}

function cropBoxOf(mask: ExportMaskInput, width: number, height: number): Xywh {
  const box = mask.cropBox;
  if (box.length === 4 && box.every(Number.isFinite)) return [box[0]!, box[1]!, box[2]!, box[3]!];
  return [0, 0, width, height];
}

/**
 * The record for one mask at the released size, or null when the mask has no pixel left there (a tiny
 * object lost to downsampling). `originalWidth/Height` are the stored image's (the mask's own size).
 * Missing scores are written as 0, since SA-1B's format has no way to say "unknown".
 */
export function annotationRecord(
  mask: ExportMaskInput,
  id: number,
  size: ReleaseSize,
  original: { width: number; height: number },
): Sa1bExportAnnotation | null {
  const segmentation = size.resized
    ? encodeMask(resizeMaskArea(decodeRle(mask.rle), size.width, size.height))
    : toCocoRle(mask.rle);
  const area = rleArea(segmentation);
  if (area === 0) return null;
  const crop = cropBoxOf(mask, original.width, original.height);
  return {
    id,
    segmentation,
    bbox: samBbox(segmentation),
    area,
    predicted_iou: mask.predictedIou ?? 0,
    stability_score: Math.min(1, Math.max(0, mask.stabilityScore ?? 0)),
    crop_box: size.resized ? scaleXywh(crop, size) : crop,
    point_coords: mask.pointCoords.map((p) => (size.resized ? scalePoint(p, size) : [p[0], p[1]])),
    source: mask.source,
    stage: mask.stage,
    ...(mask.label ? { label: mask.label } : {}),
  };
}
