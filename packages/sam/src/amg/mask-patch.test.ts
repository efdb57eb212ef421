import { maskToBbox } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import { maskBbox, stabilityScore } from "../postprocess";
import { maskToPatch, patchToMask, shiftPatch, thresholdToPatch } from "./mask-patch";

// 6x4 logits; > 0 is the mask: columns 1..3 of row 1, column 2 of row 2.
const W = 6;
const H = 4;
// biome-ignore format: the rows of the image
const LOGITS = Float32Array.from([
  -5, -5, -5, -5, -5, -5,
  -5, 0.5, 3, 2, -0.5, -5,
  -5, -5, 4, -5, -5, -5,
  -5, -5, -5, -5, -5, -5,
]);

describe("thresholdToPatch", () => {
  it("cuts the mask to its inclusive box and reports SAM's box, area and stability", () => {
    const t = thresholdToPatch(LOGITS, W, H, 1);
    expect(t.box).toEqual([1, 1, 3, 2]);
    expect(t.area).toBe(4);
    expect(t.patch).toMatchObject({ x0: 1, y0: 1, width: 3, height: 2 });
    expect([...t.patch.data]).toEqual([1, 1, 1, 0, 1, 0]);
    // > 1: 3, 2, 4; > -1: 0.5, 3, 2, -0.5, 4.
    expect(t.stabilityScore).toBe(3 / 5);
    expect(t.stabilityScore).toBe(stabilityScore(LOGITS, 1));
  });

  it("gives an empty patch and box [0, 0, 0, 0] when nothing is above 0", () => {
    const t = thresholdToPatch(new Float32Array(W * H).fill(-2), W, H, 1);
    expect(t.box).toEqual([0, 0, 0, 0]);
    expect(t.area).toBe(0);
    expect(t.patch.width).toBe(0);
    expect(t.stabilityScore).toBe(0);
  });
});

describe("patches and whole masks", () => {
  it("round-trips, and uncropping only moves the patch", () => {
    const { patch } = thresholdToPatch(LOGITS, W, H, 1);
    const moved = shiftPatch(patch, 10, 20);
    const full = patchToMask(moved, 30, 30);
    const back = maskToPatch(full);
    expect(back.box).toEqual([11, 21, 13, 22]);
    expect(back.area).toBe(4);
    expect([...back.patch.data]).toEqual([...patch.data]);
    // SAM's box is one narrower than COCO's on both axes.
    expect(maskBbox(full)).toEqual([11, 21, 2, 1]);
    expect(maskToBbox(full)).toEqual([11, 21, 3, 2]);
  });

  it("refuses a patch outside the frame", () => {
    const { patch } = thresholdToPatch(LOGITS, W, H, 1);
    expect(() => patchToMask(shiftPatch(patch, 4, 0), W, H)).toThrow(RangeError);
  });
});
