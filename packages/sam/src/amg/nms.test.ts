import { describe, expect, it } from "vitest";
import type { MaskBoxXYXY } from "./boxes";
import { boxIou, nonMaxSuppression } from "./nms";

describe("boxIou (torchvision box_iou on SAM's boxes)", () => {
  it("computes area as (x1 - x0) * (y1 - y0)", () => {
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 15);
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 7])).toBe(0.7);
    expect(boxIou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
  });

  it("gives NaN for two zero-area boxes (one-pixel masks), which never suppresses", () => {
    expect(boxIou([3, 3, 3, 3], [3, 3, 3, 3])).toBeNaN();
    expect(nonMaxSuppression([[3, 3, 3, 3] as MaskBoxXYXY, [3, 3, 3, 3]], [1, 0.5], 0.5)).toEqual([0, 1]);
  });
});

describe("nonMaxSuppression (greedy, torchvision nms)", () => {
  const a: MaskBoxXYXY = [0, 0, 10, 10];
  const b: MaskBoxXYXY = [2, 0, 12, 10]; // IoU(a, b) = 80 / 120
  const c: MaskBoxXYXY = [4, 0, 14, 10]; // IoU(a, c) = 60 / 140, IoU(b, c) = 80 / 120

  it("visits by descending score; a suppressed box no longer suppresses others", () => {
    expect(nonMaxSuppression([c, a, b], [0.7, 0.9, 0.8], 0.5)).toEqual([1, 0]);
  });

  it("suppresses only IoU strictly above the threshold", () => {
    const d: MaskBoxXYXY = [0, 0, 10, 7]; // IoU(a, d) = 0.7 exactly
    expect(nonMaxSuppression([a, d], [0.9, 0.8], 0.7)).toEqual([0, 1]);
    expect(nonMaxSuppression([a, d], [0.9, 0.8], 0.69)).toEqual([0]);
  });

  it("returns kept indices in descending score order, ties in input order", () => {
    const far = (x: number): MaskBoxXYXY => [x, 0, x + 5, 5];
    expect(nonMaxSuppression([far(0), far(100), far(200), far(300)], [0.5, 0.9, 0.5, 0.7], 0.7)).toEqual([
      1, 3, 0, 2,
    ]);
    // Identical boxes and scores: the first one wins.
    expect(nonMaxSuppression([a, a, a], [1, 1, 1], 0.7)).toEqual([0]);
  });

  it("handles no boxes and rejects mismatched lengths", () => {
    expect(nonMaxSuppression([], [], 0.7)).toEqual([]);
    expect(() => nonMaxSuppression([a], [], 0.7)).toThrow(RangeError);
  });
});
