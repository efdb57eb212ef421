import { removeSmallRegions } from "../postprocess";
import type { Proposal } from "./crop-proposals";
import type { FilterCounts } from "./filter-counts";
import { maskToPatch, patchToMask } from "./mask-patch";
import { nonMaxSuppression } from "./nms";

/** Area of an exclusive crop box, as torchvision's `box_area`. */
function cropArea(p: Proposal): number {
  const [x0, y0, x1, y1] = p.cropBox;
  return (x1 - x0) * (y1 - y0);
}

/**
 * SAM's duplicate removal between crops (`_generate_masks`): when there is more than one crop, box NMS over
 * all crops' masks (image frame) with score `1 / crop area`, so the mask from the smaller (more zoomed-in)
 * crop wins; with one crop nothing changes. Returns the kept proposals in NMS order (smallest crops first).
 */
export function dedupeAcrossCrops(
  proposals: readonly Proposal[],
  cropCount: number,
  cropNmsThresh: number,
  counts: FilterCounts,
): Proposal[] {
  if (cropCount <= 1) {
    counts.cropNms += proposals.length;
    return [...proposals];
  }
  const keep = nonMaxSuppression(
    proposals.map((p) => p.box),
    proposals.map((p) => 1 / cropArea(p)),
    cropNmsThresh,
  );
  counts.cropNms += keep.length;
  return keep.map((i) => proposals[i]!);
}

/**
 * SAM's `postprocess_small_regions` (only when `minArea > 0`): in each mask fill holes, then drop islands,
 * smaller than `minArea` pixels (8-connected, see `removeSmallRegions`), on the whole-image mask; recompute
 * every box; box NMS at `nmsThresh` (SAM passes `max(box_nms_thresh, crop_nms_thresh)`) scoring unchanged
 * masks 1 and changed ones 0, so a mask that needed no repair wins over a repaired duplicate; the kept
 * changed masks take their new mask, box and area (predicted IoU and stability stay, as in SAM).
 */
export function removeSmallRegionsAndDedupe(
  proposals: readonly Proposal[],
  minArea: number,
  nmsThresh: number,
  imageWidth: number,
  imageHeight: number,
  counts: FilterCounts,
): Proposal[] {
  if (minArea <= 0 || proposals.length === 0) {
    counts.smallRegions += proposals.length;
    return [...proposals];
  }
  const repaired = proposals.map((p) => {
    const full = patchToMask(p.patch, imageWidth, imageHeight);
    const holes = removeSmallRegions(full, minArea, "holes");
    const islands = removeSmallRegions(holes.mask, minArea, "islands");
    const changed = holes.changed || islands.changed;
    return {
      changed,
      ...(changed ? maskToPatch(islands.mask) : { patch: p.patch, box: p.box, area: p.area }),
    };
  });
  const keep = nonMaxSuppression(
    repaired.map((r) => r.box),
    repaired.map((r) => (r.changed ? 0 : 1)),
    nmsThresh,
  );
  counts.smallRegions += keep.length;
  return keep.map((i) => {
    const r = repaired[i]!;
    return { ...proposals[i]!, patch: r.patch, box: r.box, area: r.area };
  });
}
