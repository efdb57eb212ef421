import { describe, expect, it } from "vitest";
import { maskToBbox } from "./bbox";
import { assertValidMask, createMask, maskArea } from "./mask";
import { maskFromRows } from "./test-utils";

describe("mask helpers", () => {
  it("maskArea counts non-zero pixels", () => {
    expect(maskArea(maskFromRows(["#..#", ".##.", "...."]))).toBe(4);
    const mask = createMask(3, 1);
    mask.data.set([0, 255, 7]);
    expect(maskArea(mask)).toBe(2);
    expect(maskArea(createMask(0, 0))).toBe(0);
  });

  it("maskToBbox gives the tight [x, y, w, h] box", () => {
    expect(maskToBbox(maskFromRows(["....", ".#..", "...#", "...."]))).toEqual([1, 1, 3, 2]);
    expect(maskToBbox(maskFromRows(["#"]))).toEqual([0, 0, 1, 1]);
    expect(maskToBbox(maskFromRows(["...", "..#"]))).toEqual([2, 1, 1, 1]);
    expect(maskToBbox(createMask(5, 5))).toEqual([0, 0, 0, 0]);
  });

  it("assertValidMask rejects inconsistent masks", () => {
    expect(() => assertValidMask({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(
      /3 bytes but a 2x2 mask needs 4/,
    );
    expect(() => assertValidMask({ width: -1, height: 2, data: new Uint8Array(0) })).toThrow(/non-negative/);
    expect(() => assertValidMask({ width: 1, height: 1, data: [1] as unknown as Uint8Array })).toThrow(
      /Uint8Array/,
    );
    expect(() => createMask(1.5, 2)).toThrow(RangeError);
  });
});
