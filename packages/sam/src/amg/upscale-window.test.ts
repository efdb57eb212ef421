import { seededRandom } from "@sas/sa1b/test-utils";
import { describe, expect, it } from "vitest";
import { upscaleLowResLogits } from "../upscale";
import { LOW_RES_AREA } from "./low-res";
import { LowResUpscaler } from "./upscale-window";

/** Low-res logits: -5 ± noise everywhere, a blob of positive values around (cx, cy). */
function blob(rng: () => number, cx: number, cy: number, r: number): Float32Array {
  const out = new Float32Array(LOW_RES_AREA);
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 256; x++) {
      const d = Math.hypot(x - cx, y - cy);
      out[y * 256 + x] = d < r ? 8 - d + rng() : -5 + rng() * 3;
    }
  }
  return out;
}

const FLOOR = -1;

function check(width: number, height: number, cx: number, cy: number, r: number): number {
  const rng = seededRandom(width * 7 + height);
  const lowRes = new Float32Array(2 * LOW_RES_AREA);
  lowRes.set(blob(rng, cx, cy, r), LOW_RES_AREA);
  const full = upscaleLowResLogits(lowRes, width, height, LOW_RES_AREA);
  const win = new LowResUpscaler(width, height).upscale(lowRes, LOW_RES_AREA, FLOOR)!;
  expect(win).not.toBeNull();
  let mismatches = 0;
  let aboveOutside = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = full[y * width + x]!;
      const inside = x >= win.x0 && x < win.x0 + win.width && y >= win.y0 && y < win.y0 + win.height;
      if (inside) {
        if (win.data[(y - win.y0) * win.width + (x - win.x0)] !== v) mismatches++;
      } else if (v > FLOOR) {
        aboveOutside++;
      }
    }
  }
  expect(mismatches).toBe(0);
  expect(aboveOutside).toBe(0);
  return (win.width * win.height) / (width * height);
}

describe("LowResUpscaler (SAM's upsampling on the window that can matter)", () => {
  it.each([
    [640, 480],
    [402, 322],
    [1500, 1000],
    [1000, 1500],
    [256, 192],
    [1024, 1024],
    [161, 129],
    [1072, 603],
  ])(
    "equals upscaleLowResLogits bit for bit inside its window at %ix%i, and nothing outside exceeds the floor",
    (w, h) => {
      expect(check(w, h, 60, 50, 12)).toBeLessThan(0.1);
    },
  );

  it("a blob at the content's far corner, next to the padding, still matches", () => {
    // 640x480: content is 256x192 cells; put the blob across the last row/column of content.
    check(640, 480, 250, 189, 10);
    check(1500, 1000, 255, 170, 6);
  });

  it("returns null when no cell is above the floor", () => {
    const lowRes = new Float32Array(LOW_RES_AREA).fill(-3);
    expect(new LowResUpscaler(640, 480).upscale(lowRes, 0, FLOOR)).toBeNull();
  });

  it("ignores cells in the padding that no output pixel reads", () => {
    // 640x480 reads rows 0..192 at most (the stage-1 taps of the last content row); row 250 is padding.
    const lowRes = new Float32Array(LOW_RES_AREA).fill(-3);
    lowRes.fill(9, 250 * 256, 251 * 256);
    expect(new LowResUpscaler(640, 480).upscale(lowRes, 0, FLOOR)).toBeNull();
  });
});
