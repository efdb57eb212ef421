import { type BinaryMask, createMask } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import {
  connectedComponents,
  logitsToMaskStats,
  maskArea,
  maskBbox,
  removeSmallRegions,
  stabilityScore,
  thresholdLogits,
} from "./postprocess";

function maskFrom(rows: string[]): BinaryMask {
  const m = createMask(rows[0]!.length, rows.length);
  rows.forEach((r, y) => {
    for (let x = 0; x < r.length; x++) m.data[y * r.length + x] = r[x] === "#" ? 1 : 0;
  });
  return m;
}

function rowsOf(m: BinaryMask): string[] {
  const out: string[] = [];
  for (let y = 0; y < m.height; y++) {
    let s = "";
    for (let x = 0; x < m.width; x++) s += m.data[y * m.width + x] ? "#" : ".";
    out.push(s);
  }
  return out;
}

describe("thresholding and stability", () => {
  const logits = Float32Array.from([-5, -0.5, 0, 0.5, 1.5, 3, -1, 1, 0.9]);

  it("thresholds strictly above 0, like SAM's mask_threshold", () => {
    expect(Array.from(thresholdLogits(logits, 3, 3).data)).toEqual([0, 0, 0, 1, 1, 1, 0, 1, 1]);
    expect(Array.from(thresholdLogits(Float32Array.from([9, 9, 1, -1]), 2, 1, 2).data)).toEqual([1, 0]);
  });

  it("computes SAM's stability score: count(> +1) / count(> -1)", () => {
    // > 1: 1.5, 3 -> 2 ; > -1: -0.5, 0, 0.5, 1.5, 3, 1, 0.9 -> 7 (-1 itself is not > -1)
    expect(stabilityScore(logits)).toBeCloseTo(2 / 7, 10);
    // > 0.5: 1.5, 3, 1, 0.9 -> 4 ; > -0.5: 0, 0.5, 1.5, 3, 1, 0.9 -> 6
    expect(stabilityScore(logits, 0.5)).toBeCloseTo(4 / 6, 10);
  });

  it("is 1 for a confident mask and 0 when even the loose mask is empty", () => {
    expect(stabilityScore(Float32Array.from([10, 10, -10]))).toBe(1);
    expect(stabilityScore(Float32Array.from([-10, -3]))).toBe(0);
  });

  it("gives the same numbers in the single-pass helper", () => {
    const s = logitsToMaskStats(logits, 3, 3);
    expect(Array.from(s.mask.data)).toEqual([0, 0, 0, 1, 1, 1, 0, 1, 1]);
    expect(s.area).toBe(5);
    expect(s.bbox).toEqual([0, 1, 2, 1]);
    expect(s.stabilityScore).toBeCloseTo(2 / 7, 10);
  });
});

describe("area and bbox", () => {
  it("uses SAM's inclusive XYWH: w = last column - first column", () => {
    const m = maskFrom(["......", "..##..", "...#..", "......"]);
    expect(maskArea(m)).toBe(3);
    expect(maskBbox(m)).toEqual([2, 1, 1, 1]);
    expect(maskBbox(maskFrom(["...", ".#.", "..."]))).toEqual([1, 1, 0, 0]);
    expect(maskBbox(maskFrom(["#..", "...", "..#"]))).toEqual([0, 0, 2, 2]);
  });

  it("returns [0,0,0,0] for an empty mask", () => {
    expect(maskBbox(createMask(5, 4))).toEqual([0, 0, 0, 0]);
    expect(maskArea(createMask(5, 4))).toBe(0);
  });
});

describe("removeSmallRegions", () => {
  const img = maskFrom(["##.......", "##...####", ".....#..#", ".....####", ".#......."]);

  it("drops islands smaller than the threshold and keeps the rest", () => {
    const { mask, changed } = removeSmallRegions(img, 5, "islands");
    expect(changed).toBe(true);
    expect(rowsOf(mask)).toEqual([".........", ".....####", ".....#..#", ".....####", "........."]);
  });

  it("keeps the largest island when every island is small", () => {
    const { mask } = removeSmallRegions(img, 100, "islands");
    expect(maskArea(mask)).toBe(10);
    expect(mask.data[1 * 9 + 5]).toBe(1);
  });

  it("fills holes smaller than the threshold; the outside is never a hole", () => {
    const { mask, changed } = removeSmallRegions(img, 3, "holes");
    expect(changed).toBe(true);
    expect(rowsOf(mask)[2]).toBe(".....####");
    expect(maskArea(mask)).toBe(maskArea(img) + 2);
    expect(removeSmallRegions(img, 2, "holes").changed).toBe(false);
  });

  it("uses 8-connectivity for both modes, as SAM's cv2 call does", () => {
    const diag = maskFrom(["#..", ".#.", "..#"]);
    const { labels, sizes } = connectedComponents(diag.data, 3, 3, 1);
    expect(sizes.slice(1)).toEqual([3]);
    expect(labels[8]).toBe(1);
    // The 1-pixel gap at (2,2) touches the outside only diagonally: with 8-connectivity it is part of
    // the outside (not filled); 4-connectivity would have called it a hole.
    const leaky = maskFrom([".....", ".###.", ".#.#.", ".##..", "....."]);
    const r = removeSmallRegions(leaky, 2, "holes");
    expect(r.changed).toBe(false);
    expect(r.mask.data[2 * 5 + 2]).toBe(0);
    const closed = maskFrom([".....", ".###.", ".#.#.", ".###.", "....."]);
    expect(removeSmallRegions(closed, 2, "holes").mask.data[2 * 5 + 2]).toBe(1);
  });

  it("does not modify its input", () => {
    const copy = img.data.slice();
    removeSmallRegions(img, 5, "islands");
    expect(img.data).toEqual(copy);
  });
});
