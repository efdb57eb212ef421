import { type BinaryMask, createMask } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import type { CropBoxXYXY } from "./crop-boxes";
import type { Proposal } from "./crop-proposals";
import { dedupeAcrossCrops, removeSmallRegionsAndDedupe } from "./dedup";
import { emptyFilterCounts } from "./filter-counts";
import { maskToPatch, patchToMask } from "./mask-patch";

const W = 100;
const H = 80;

function rect(x0: number, y0: number, x1: number, y1: number): BinaryMask {
  const m = createMask(W, H);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m.data[y * W + x] = 1;
  return m;
}

function proposal(mask: BinaryMask, cropBox: CropBoxXYXY, predictedIou = 0.9): Proposal {
  const { patch, box, area } = maskToPatch(mask);
  return { patch, box, area, predictedIou, stabilityScore: 0.97, point: [1, 2], cropBox };
}

const WHOLE: CropBoxXYXY = [0, 0, W, H];
const SMALL: CropBoxXYXY = [0, 0, 60, 50];
const SMALLER: CropBoxXYXY = [40, 30, 100, 80];

describe("dedupeAcrossCrops (SAM's NMS between crops, score 1 / crop area)", () => {
  it("keeps the mask from the smaller crop even when the larger crop's mask scored better", () => {
    const counts = emptyFilterCounts();
    const fromWhole = proposal(rect(10, 10, 30, 30), WHOLE, 0.99);
    const fromCrop = proposal(rect(10, 10, 30, 29), SMALL, 0.89);
    const kept = dedupeAcrossCrops([fromWhole, fromCrop], 5, 0.7, counts);
    expect(kept).toEqual([fromCrop]);
    expect(counts.cropNms).toBe(1);
  });

  it("keeps masks that do not overlap enough, smaller crops first", () => {
    const a = proposal(rect(10, 10, 30, 30), WHOLE);
    const b = proposal(rect(50, 40, 70, 60), SMALLER);
    const c = proposal(rect(10, 10, 20, 30), SMALL); // IoU with a: 200 / 400 = 0.5
    expect(dedupeAcrossCrops([a, b, c], 5, 0.7, emptyFilterCounts())).toEqual([b, c, a]);
  });

  it("does nothing with a single crop, as SAM skips this NMS then", () => {
    const a = proposal(rect(10, 10, 30, 30), WHOLE);
    const dup = proposal(rect(10, 10, 30, 30), WHOLE);
    const counts = emptyFilterCounts();
    expect(dedupeAcrossCrops([a, dup], 1, 0.7, counts)).toEqual([a, dup]);
    expect(counts.cropNms).toBe(2);
  });
});

describe("removeSmallRegionsAndDedupe (SAM's postprocess_small_regions)", () => {
  it("is a no-op when minArea is 0", () => {
    const a = proposal(rect(10, 10, 30, 30), WHOLE);
    const counts = emptyFilterCounts();
    expect(removeSmallRegionsAndDedupe([a], 0, 0.7, W, H, counts)).toEqual([a]);
    expect(counts.smallRegions).toBe(1);
  });

  it("fills small holes, drops small islands, and recomputes box and area", () => {
    const m = rect(10, 10, 30, 30);
    m.data[20 * W + 20] = 0; // a 1-pixel hole
    m.data[70 * W + 90] = 1; // a 1-pixel island far away
    const p = proposal(m, WHOLE);
    expect(p.box).toEqual([10, 10, 90, 70]);
    const [fixed] = removeSmallRegionsAndDedupe([p], 5, 0.7, W, H, emptyFilterCounts());
    expect(fixed!.box).toEqual([10, 10, 30, 30]);
    expect(fixed!.area).toBe(21 * 21);
    expect(patchToMask(fixed!.patch, W, H).data).toEqual(rect(10, 10, 30, 30).data);
    expect(fixed!.predictedIou).toBe(p.predictedIou);
  });

  it("prefers an unchanged mask over a repaired duplicate, whatever the order", () => {
    const withIsland = rect(10, 10, 30, 30);
    withIsland.data[32 * W + 32] = 1; // 2 px diagonally from the corner (30, 30): a separate 1-pixel island
    const repaired = proposal(withIsland, WHOLE, 0.99);
    const clean = proposal(rect(10, 10, 30, 31), WHOLE, 0.8);
    const counts = emptyFilterCounts();
    const kept = removeSmallRegionsAndDedupe([repaired, clean], 5, 0.7, W, H, counts);
    expect(kept).toEqual([clean]);
    expect(counts.smallRegions).toBe(1);
  });

  it("keeps a repaired mask that has no duplicate", () => {
    const m = rect(10, 10, 30, 30);
    m.data[70 * W + 90] = 1;
    const other = proposal(rect(50, 40, 70, 60), WHOLE);
    const kept = removeSmallRegionsAndDedupe([proposal(m, WHOLE), other], 5, 0.7, W, H, emptyFilterCounts());
    expect(kept.map((p) => p.box)).toEqual([
      [50, 40, 70, 60],
      [10, 10, 30, 30],
    ]);
  });
});
