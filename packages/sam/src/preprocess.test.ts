import { describe, expect, it } from "vitest";
import { PIXEL_MEAN, PIXEL_STD, preprocessImage } from "./preprocess";

const S = 1024;
const PLANE = S * S;

function solid(width: number, height: number, rgb: [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

describe("preprocessImage", () => {
  it("produces a [1,3,1024,1024] NCHW tensor normalised with SAM's mean/std", () => {
    const t = preprocessImage(solid(1024, 576, [255, 0, 128]));
    expect(t.length).toBe(3 * PLANE);
    expect(t[0]).toBeCloseTo((255 - 123.675) / 58.395, 6);
    expect(t[PLANE]).toBeCloseTo((0 - 116.28) / 57.12, 6);
    expect(t[2 * PLANE]).toBeCloseTo((128 - 103.53) / 57.375, 6);
    // last content pixel (x=1023, y=575) of each plane
    const last = 575 * S + 1023;
    expect(t[last]).toBeCloseTo((255 - PIXEL_MEAN[0]) / PIXEL_STD[0], 6);
    expect(t[2 * PLANE + last]).toBeCloseTo((128 - PIXEL_MEAN[2]) / PIXEL_STD[2], 6);
  });

  it("pads bottom/right with zeros after normalisation", () => {
    const t = preprocessImage(solid(576, 1024, [10, 20, 30]));
    // right of the content (x = 576) and the last pixel are padding in every plane
    for (const c of [0, 1, 2]) {
      expect(t[c * PLANE + 576]).toBe(0);
      expect(t[c * PLANE + PLANE - 1]).toBe(0);
      expect(t[c * PLANE + 575]).toBeCloseTo(([10, 20, 30][c]! - PIXEL_MEAN[c as 0]) / PIXEL_STD[c as 0], 6);
    }
    const wide = preprocessImage(solid(1024, 683, [10, 20, 30]));
    expect(wide[683 * S]).toBe(0);
    expect(wide[682 * S]).not.toBe(0);
  });

  it("keeps channel order and pixel positions (no transposition)", () => {
    const img = solid(1024, 2, [0, 0, 0]);
    img.data.set([1, 2, 3], (1 * 1024 + 5) * 3); // pixel (5, 1)
    const t = preprocessImage(img);
    const i = 1 * S + 5;
    expect(t[i]).toBeCloseTo((1 - PIXEL_MEAN[0]) / PIXEL_STD[0], 6);
    expect(t[PLANE + i]).toBeCloseTo((2 - PIXEL_MEAN[1]) / PIXEL_STD[1], 6);
    expect(t[2 * PLANE + i]).toBeCloseTo((3 - PIXEL_MEAN[2]) / PIXEL_STD[2], 6);
    expect(t[S + 5 + 1]).toBeCloseTo((0 - PIXEL_MEAN[0]) / PIXEL_STD[0], 6);
  });

  it("fully overwrites a reused buffer", () => {
    const buf = new Float32Array(3 * PLANE).fill(7);
    preprocessImage(solid(1024, 10, [0, 0, 0]), buf);
    expect(buf[PLANE - 1]).toBe(0);
    expect(buf[0]).toBeCloseTo(-123.675 / 58.395, 6);
  });

  it("rejects a buffer that is not at the preprocess shape", () => {
    expect(() => preprocessImage(solid(800, 534, [0, 0, 0]))).toThrow(/longest side 1024/);
    expect(() => preprocessImage({ width: 1024, height: 2, data: new Uint8Array(10) })).toThrow(/RGB bytes/);
  });
});
