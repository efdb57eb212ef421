import { createMask, encodeMask } from "@sas/sa1b";
import { beforeAll, describe, expect, it } from "vitest";
import { coverageOf, formatCoverage, paintUncovered } from "./coverage";

/** Node has no ImageData; the browser's is a width, a height and RGBA bytes. */
beforeAll(() => {
  if (typeof globalThis.ImageData === "undefined") {
    class NodeImageData {
      readonly data: Uint8ClampedArray;
      constructor(
        readonly width: number,
        readonly height: number,
      ) {
        this.data = new Uint8ClampedArray(width * height * 4);
      }
    }
    Object.assign(globalThis, { ImageData: NodeImageData });
  }
});

/** A w x h mask with the rectangle [x0, x1) x [y0, y1) set. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number) {
  const m = createMask(w, h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m.data[y * w + x] = 1;
  return encodeMask(m);
}

describe("coverageOf", () => {
  it("is the share of pixels under the union: overlaps count once", () => {
    // 10x4 image: columns 0-3 and 2-5 overlap on 2-3 -> 6 columns of 4 rows = 24 of 40 pixels
    const c = coverageOf([rect(10, 4, 0, 0, 4, 4), rect(10, 4, 2, 0, 6, 4)], 10, 4);
    expect(c.coveredPixels).toBe(24);
    expect(c.share).toBeCloseTo(0.6, 10);
  });

  it("no masks, or only masks of another size, cover nothing", () => {
    expect(coverageOf([], 10, 4)).toEqual({ share: 0, coveredPixels: 0, union: null });
    expect(coverageOf([rect(4, 10, 0, 0, 4, 10)], 10, 4).share).toBe(0);
  });

  it("the whole image is 100%", () => {
    expect(coverageOf([rect(7, 3, 0, 0, 7, 3)], 7, 3).share).toBe(1);
  });
});

describe("paintUncovered", () => {
  it("marks exactly the pixels no mask covers", () => {
    const { union } = coverageOf([rect(6, 3, 0, 0, 2, 3), rect(6, 3, 4, 1, 6, 2)], 6, 3);
    const img = paintUncovered(union, 6, 3);
    const marked: string[] = [];
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 6; x++) if (img.data[4 * (y * 6 + x) + 3]! > 0) marked.push(`${x},${y}`);
    expect(marked).toEqual(["2,0", "3,0", "4,0", "5,0", "2,1", "3,1", "2,2", "3,2", "4,2", "5,2"]);
  });

  it("without any mask, everything is uncovered", () => {
    const img = paintUncovered(null, 3, 2);
    for (let i = 0; i < 6; i++) expect(img.data[4 * i + 3]).toBeGreaterThan(0);
  });

  it("scales large images down to the overlay size, keeping a one-pixel gap visible", () => {
    const w = 4096;
    const h = 8;
    // covered everywhere except column 1001
    const { union } = coverageOf([rect(w, h, 0, 0, 1001, h), rect(w, h, 1002, 0, w, h)], w, h);
    const img = paintUncovered(union, w, h);
    expect(img.width).toBe(2048);
    expect(img.height).toBe(4);
    const markedColumns = new Set<number>();
    for (let x = 0; x < img.width; x++) if (img.data[4 * x + 3]! > 0) markedColumns.add(x);
    expect([...markedColumns]).toEqual([500]);
  });
});

describe("formatCoverage", () => {
  it("rounds to whole percent, with a decimal near 0 and 100", () => {
    expect(formatCoverage(0)).toBe("0%");
    expect(formatCoverage(0.374)).toBe("37%");
    expect(formatCoverage(0.004)).toBe("0.4%");
    expect(formatCoverage(0.9968)).toBe("99.6%");
    expect(formatCoverage(1)).toBe("100%");
  });
});
