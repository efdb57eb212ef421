import { describe, expect, it } from "vitest";
import { bboxIoU, maskIoU, rleIoU } from "./iou";
import { createMask } from "./mask";
import { encodeMask, RleError } from "./rle";
import { blobMask, noiseMask, randomInt, rectMask, seededRandom } from "./test-utils";

/** pycocotools-style square: mask[lo:hi, lo:hi] = 1 on a 25x25 image. */
const square25 = (lo: number, hi: number) => rectMask(25, 25, lo, lo, hi, hi);

describe("published pycocotools IoU values (twsl/pytorchcocotools tests/mask/test_iou.py)", () => {
  const cases: [string, [number, number], [number, number], number][] = [
    ["start same", [0, 5], [0, 5], 1],
    ["center same", [5, 10], [5, 10], 1],
    ["end same", [20, 25], [20, 25], 1],
    ["full same", [0, 25], [0, 25], 1],
    ["center none", [5, 10], [10, 15], 0],
    ["center partial", [5, 10], [5, 15], 0.25],
    ["center overlap", [5, 10], [8, 13], 4 / 46],
  ];
  for (const [name, [alo, ahi], [blo, bhi], expected] of cases) {
    it(`${name}: ${expected}`, () => {
      const a = square25(alo, ahi);
      const b = square25(blo, bhi);
      expect(rleIoU(encodeMask(a), encodeMask(b))).toBe(expected);
      expect(maskIoU(a, b)).toBe(expected);
      expect(bboxIoU([alo, alo, ahi - alo, ahi - alo], [blo, blo, bhi - blo, bhi - blo])).toBe(expected);
    });
  }
});

describe("rleIoU agrees with maskIoU", () => {
  it("on random noise and blob pairs, including degenerate sizes", () => {
    const rng = seededRandom(20240601);
    const sizes: [number, number][] = [
      [1, 1],
      [1, 40],
      [40, 1],
      [3, 5],
      [5, 3],
      [37, 23],
      [64, 48],
    ];
    let nonTrivial = 0;
    for (const [width, height] of sizes) {
      for (let trial = 0; trial < 40; trial++) {
        const a =
          trial % 2 === 0
            ? noiseMask(rng, width, height, rng())
            : blobMask(rng, width, height, randomInt(rng, 1, 4));
        const b =
          trial % 3 === 0
            ? noiseMask(rng, width, height, rng())
            : blobMask(rng, width, height, randomInt(rng, 1, 4));
        const expected = maskIoU(a, b);
        const ra = encodeMask(a);
        const rb = encodeMask(b);
        expect(rleIoU(ra, rb)).toBe(expected);
        expect(rleIoU(rb, ra)).toBe(expected);
        expect(rleIoU(ra, rb, { crowd: true })).toBe(maskIoU(a, b, { crowd: true }));
        if (expected > 0 && expected < 1) nonTrivial++;
      }
    }
    expect(nonTrivial).toBeGreaterThan(100);
  });

  it("is 1 for identical non-empty masks", () => {
    const a = blobMask(seededRandom(3), 50, 40, 3);
    expect(rleIoU(encodeMask(a), encodeMask(a))).toBe(1);
  });
});

describe("defined edge cases", () => {
  it("two empty masks have IoU 0 (as pycocotools)", () => {
    const empty = createMask(7, 4);
    expect(maskIoU(empty, empty)).toBe(0);
    expect(rleIoU(encodeMask(empty), encodeMask(empty))).toBe(0);
    expect(maskIoU(createMask(0, 0), createMask(0, 0))).toBe(0);
    expect(rleIoU(encodeMask(createMask(0, 0)), encodeMask(createMask(0, 0)))).toBe(0);
  });

  it("an empty and a non-empty mask have IoU 0", () => {
    const a = rectMask(10, 10, 2, 2, 5, 5);
    const empty = createMask(10, 10);
    expect(maskIoU(a, empty)).toBe(0);
    expect(rleIoU(encodeMask(empty), encodeMask(a))).toBe(0);
  });

  it("crowd IoU divides by the first mask's area", () => {
    // a: 3x3 = 9 pixels, b: 4x4 = 16 pixels, overlap 2x2 = 4 pixels.
    const a = rectMask(10, 10, 0, 0, 3, 3);
    const b = rectMask(10, 10, 1, 1, 5, 5);
    expect(maskIoU(a, b)).toBe(4 / 21);
    expect(rleIoU(encodeMask(a), encodeMask(b))).toBe(4 / 21);
    expect(maskIoU(a, b, { crowd: true })).toBe(4 / 9);
    expect(rleIoU(encodeMask(a), encodeMask(b), { crowd: true })).toBe(4 / 9);
    expect(rleIoU(encodeMask(b), encodeMask(a), { crowd: true })).toBe(4 / 16);
  });

  it("accepts uncompressed RLE", () => {
    // 1 high, 6 wide: a = .##..., b = ..###. -> intersection 1, union 4.
    expect(rleIoU({ size: [1, 6], counts: [1, 2, 3] }, { size: [1, 6], counts: [2, 3, 1] })).toBe(0.25);
  });

  it("throws for different sizes", () => {
    expect(() => rleIoU(encodeMask(createMask(3, 2)), encodeMask(createMask(2, 3)))).toThrow(RleError);
    expect(() => rleIoU(encodeMask(createMask(3, 2)), encodeMask(createMask(2, 3)))).toThrow(
      /different sizes: \[2, 3\] and \[3, 2\]/,
    );
    expect(() => maskIoU(createMask(3, 2), createMask(2, 3))).toThrow(/different sizes: 3x2 and 2x3/);
  });

  it("throws for malformed RLE", () => {
    expect(() => rleIoU({ size: [2, 2], counts: "5" }, { size: [2, 2], counts: "4" })).toThrow(RleError);
  });
});

describe("bboxIoU", () => {
  it("matches hand-computed values", () => {
    expect(bboxIoU([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    // overlap 5x10 = 50, union 100 + 100 - 50 = 150
    expect(bboxIoU([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(1 / 3, 12);
    // contained: 4 / 100
    expect(bboxIoU([0, 0, 10, 10], [3, 3, 2, 2])).toBeCloseTo(0.04, 12);
    expect(bboxIoU([0.5, 0.5, 1, 1], [1, 1, 1, 1])).toBeCloseTo(0.25 / 1.75, 12);
  });

  it("is 0 for touching, disjoint or empty boxes", () => {
    expect(bboxIoU([0, 0, 10, 10], [10, 0, 5, 5])).toBe(0);
    expect(bboxIoU([0, 0, 10, 10], [0, 10, 5, 5])).toBe(0);
    expect(bboxIoU([0, 0, 10, 10], [20, 20, 5, 5])).toBe(0);
    expect(bboxIoU([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
  });

  it("supports crowd boxes", () => {
    expect(bboxIoU([0, 0, 2, 2], [1, 1, 10, 10], { crowd: true })).toBe(0.25);
  });
});
