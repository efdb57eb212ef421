import { describe, expect, it } from "vitest";
import {
  fromInputCoords,
  fromLowResCoords,
  inputScale,
  lowResContentSize,
  preprocessShape,
  toInputCoords,
  toLowResCoords,
} from "./transforms";

describe("preprocessShape", () => {
  it("resizes the longest side to 1024 with SAM's int(x * scale + 0.5) rounding", () => {
    expect(preprocessShape(1072, 603)).toEqual({ width: 1024, height: 576 }); // 603*0.955… = 575.999 -> 576
    expect(preprocessShape(1800, 1200)).toEqual({ width: 1024, height: 683 }); // 682.67 -> 683
    expect(preprocessShape(603, 1072)).toEqual({ width: 576, height: 1024 });
    expect(preprocessShape(2048, 1365)).toEqual({ width: 1024, height: 683 }); // 682.5 rounds half up
    expect(preprocessShape(800, 534)).toEqual({ width: 1024, height: 684 }); // 683.52
    expect(preprocessShape(1024, 1024)).toEqual({ width: 1024, height: 1024 });
  });

  it("upscales tiny images and never returns a zero side", () => {
    expect(preprocessShape(1, 1)).toEqual({ width: 1024, height: 1024 });
    expect(preprocessShape(3, 1)).toEqual({ width: 1024, height: 341 });
    expect(preprocessShape(5000, 1)).toEqual({ width: 1024, height: 1 });
  });

  it("rejects empty or invalid sizes", () => {
    expect(() => preprocessShape(0, 10)).toThrow(RangeError);
    expect(() => preprocessShape(10, Number.NaN)).toThrow(RangeError);
  });
});

describe("coordinate transforms", () => {
  it("scales each axis by new/old like SAM's apply_coords", () => {
    const { sx, sy } = inputScale(1800, 1200);
    expect(sx).toBeCloseTo(1024 / 1800, 12);
    expect(sy).toBeCloseTo(683 / 1200, 12);
    expect(toInputCoords(900, 600, 1800, 1200)).toEqual({ x: 900 * (1024 / 1800), y: 600 * (683 / 1200) });
    expect(toInputCoords(0, 0, 1800, 1200)).toEqual({ x: 0, y: 0 });
    const corner = toInputCoords(1800, 1200, 1800, 1200);
    expect(corner.x).toBeCloseTo(1024, 10);
    expect(corner.y).toBeCloseTo(683, 10);
  });

  it("round-trips original -> 1024 frame -> original, for non-square and tiny images", () => {
    for (const [w, h] of [
      [1072, 603],
      [603, 1072],
      [7, 3],
      [1, 1],
      [4000, 17],
    ] as const) {
      for (const [x, y] of [
        [0, 0],
        [w / 2, h / 3],
        [w - 1, h - 1],
      ] as const) {
        const p = toInputCoords(x, y, w, h);
        const back = fromInputCoords(p.x, p.y, w, h);
        expect(back.x).toBeCloseTo(x, 9);
        expect(back.y).toBeCloseTo(y, 9);
        const low = toLowResCoords(x, y, w, h);
        expect(low.x).toBeCloseTo(p.x / 4, 9);
        expect(low.y).toBeCloseTo(p.y / 4, 9);
        const back2 = fromLowResCoords(low.x, low.y, w, h);
        expect(back2.x).toBeCloseTo(x, 9);
        expect(back2.y).toBeCloseTo(y, 9);
      }
    }
  });

  it("gives the low-res content area (the rest of the 256 frame is padding)", () => {
    expect(lowResContentSize(1072, 603)).toEqual({ width: 256, height: 144 });
    expect(lowResContentSize(1800, 1200)).toEqual({ width: 256, height: 170.75 });
  });
});
