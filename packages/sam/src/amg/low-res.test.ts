import { describe, expect, it } from "vitest";
import { stabilityScore } from "../postprocess";
import { LOW_RES_AREA, lowResStabilityScore, lowResValidSize } from "./low-res";

describe("lowResValidSize", () => {
  it("is ceil(resized / 4) per axis, from SAM's preprocess shape", () => {
    // 1500x1000 -> 1024x683 (int(666.67 + 0.5)) -> 256 x ceil(170.75).
    expect(lowResValidSize(1500, 1000)).toEqual({ width: 256, height: 171 });
    expect(lowResValidSize(640, 480)).toEqual({ width: 256, height: 192 });
    expect(lowResValidSize(1000, 1500)).toEqual({ width: 171, height: 256 });
    // A layer-1 crop of 1500x1000: 921x671 -> 1024x746 (int(746.04 + 0.5)) -> 256 x ceil(186.5).
    expect(lowResValidSize(921, 671)).toEqual({ width: 256, height: 187 });
    expect(lowResValidSize(64, 64)).toEqual({ width: 256, height: 256 });
  });
});

describe("lowResStabilityScore", () => {
  it("is count(> +offset) / count(> -offset) over the valid region only", () => {
    const logits = new Float32Array(2 * LOW_RES_AREA).fill(5); // padding and the other candidate: all high
    const base = LOW_RES_AREA;
    const valid = [
      [2, 0.5, -0.5, -2],
      [3, 1.5, 0.9, -5],
    ];
    valid.forEach((row, y) => {
      row.forEach((v, x) => {
        logits[base + y * 256 + x] = v;
      });
    });
    // > 1: 2, 3, 1.5 (3 cells); > -1: 2, 0.5, -0.5, 3, 1.5, 0.9 (6 cells).
    expect(lowResStabilityScore(logits, base, 4, 2, 1)).toBe(0.5);
    // A value exactly at the cutoff is not above it: offset 2 -> > 2: 3 (1), > -2: 6 cells.
    expect(lowResStabilityScore(logits, base, 4, 2, 2)).toBeCloseTo(1 / 6, 12);
  });

  it("is 0 when even the low mask is empty (SAM's NaN, which fails every threshold)", () => {
    const logits = new Float32Array(LOW_RES_AREA).fill(-3);
    expect(lowResStabilityScore(logits, 0, 256, 256, 1)).toBe(0);
  });

  it("equals the plain stability score when the whole grid is valid", () => {
    const logits = new Float32Array(LOW_RES_AREA);
    for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i * 0.37) * 4;
    expect(lowResStabilityScore(logits, 0, 256, 256, 1)).toBe(stabilityScore(logits, 1));
  });

  it("rejects short input and an oversized region", () => {
    expect(() => lowResStabilityScore(new Float32Array(10), 0, 1, 1, 1)).toThrow(RangeError);
    expect(() => lowResStabilityScore(new Float32Array(LOW_RES_AREA), 0, 257, 1, 1)).toThrow(RangeError);
  });
});
