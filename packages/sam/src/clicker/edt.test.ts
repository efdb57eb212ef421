import { seededRandom } from "@sas/sa1b/test-utils";
import { describe, expect, it } from "vitest";
import { distanceTransform, squaredDistanceTransform } from "./edt";

function bruteForce(mask: Uint8Array, width: number, height: number, border: boolean): Float64Array {
  const out = new Float64Array(width * height);
  // With the border, the zero sites include the 1-px frame around the image.
  const x0 = border ? -1 : 0;
  const y0 = border ? -1 : 0;
  const x1 = border ? width : width - 1;
  const y1 = border ? height : height - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      let best = Number.POSITIVE_INFINITY;
      for (let v = y0; v <= y1; v++) {
        for (let u = x0; u <= x1; u++) {
          const inside = u >= 0 && v >= 0 && u < width && v < height;
          if (inside && mask[v * width + u]) continue;
          best = Math.min(best, (u - x) ** 2 + (v - y) ** 2);
        }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}

describe("squaredDistanceTransform", () => {
  it("matches brute force on random masks, with and without the zero border", () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const width = 1 + Math.floor(random() * 17);
      const height = 1 + Math.floor(random() * 17);
      const density = random();
      const mask = new Uint8Array(width * height);
      for (let i = 0; i < mask.length; i++) mask[i] = random() < density ? 1 : 0;
      for (const border of [true, false]) {
        const got = squaredDistanceTransform(mask, width, height, { borderIsBackground: border });
        expect(Array.from(got), `trial ${trial} ${width}x${height} border=${border}`).toEqual(
          Array.from(bruteForce(mask, width, height, border)),
        );
      }
    }
  });

  it("measures from the image edge when the border is background", () => {
    const width = 5;
    const height = 3;
    const full = new Uint8Array(width * height).fill(1);
    expect(Array.from(squaredDistanceTransform(full, width, height))).toEqual([
      1, 1, 1, 1, 1, 1, 4, 4, 4, 1, 1, 1, 1, 1, 1,
    ]);
    expect(
      squaredDistanceTransform(full, width, height, { borderIsBackground: false }).every(
        (d) => d === Infinity,
      ),
    ).toBe(true);
  });

  it("gives Euclidean (not city-block) distances", () => {
    const size = 9;
    const mask = new Uint8Array(size * size).fill(1);
    mask[0] = 0;
    const d = distanceTransform(mask, size, size, { borderIsBackground: false });
    expect(d[8 * size + 8]).toBeCloseTo(Math.hypot(8, 8), 5);
    expect(d[3 * size + 4]).toBeCloseTo(5, 6);
  });

  it("rejects a buffer of the wrong size and handles empty images", () => {
    expect(() => squaredDistanceTransform(new Uint8Array(5), 2, 2)).toThrow(RangeError);
    expect(squaredDistanceTransform(new Uint8Array(0), 0, 7).length).toBe(0);
  });
});
