import type { BinaryMask } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import type { PointPrompt } from "../types";
import type { GroundTruth } from "./clicker";
import { distanceTransform } from "./edt";
import { clicksToReach } from "./metrics";
import { objectIoU, simulateSession } from "./session";

function maskFrom(width: number, height: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

/**
 * A crude stand-in for a model: paints a disk around every positive click and erases one around
 * every negative click, later clicks winning. `radius` may depend on the click.
 */
function diskPredictor(width: number, height: number, radius: (click: PointPrompt) => number) {
  return (clicks: readonly PointPrompt[]): BinaryMask => {
    const disks = clicks.map((c) => ({ ...c, r2: radius(c) ** 2 }));
    return maskFrom(width, height, (x, y) => {
      let inside = false;
      for (const c of disks) if ((x - c.x) ** 2 + (y - c.y) ** 2 < c.r2) inside = c.label === 1;
      return inside;
    });
  };
}

describe("simulateSession", () => {
  // An L-shaped object: one disk can never cover it, so the session needs several corrections.
  const width = 96;
  const height = 80;
  const gt: GroundTruth = {
    object: maskFrom(
      width,
      height,
      (x, y) => (x >= 10 && x < 40 && y >= 10 && y < 70) || (x >= 10 && x < 85 && y >= 45 && y < 70),
    ),
  };

  it("converges with a predictor that paints the largest disk that fits at each click", async () => {
    // Such a disk never spills over the boundary, so every click can only help.
    const inside = distanceTransform(gt.object.data, width, height);
    const outside = distanceTransform(
      gt.object.data.map((v) => 1 - v),
      width,
      height,
    );
    const fit = (c: PointPrompt) => (c.label === 1 ? inside : outside)[c.y * width + c.x]!;
    const result = await simulateSession(gt, diskPredictor(width, height, fit));
    expect(result.ious).toHaveLength(20);
    expect(result.clicks).toHaveLength(20);
    expect(result.clicks[0]?.label).toBe(1);
    for (let k = 1; k < 20; k++) expect(result.ious[k]!).toBeGreaterThanOrEqual(result.ious[k - 1]!);
    expect(result.ious[19]!).toBeGreaterThanOrEqual(0.85);
    expect(clicksToReach(result.ious, 0.85)).toBeLessThan(20);
  });

  it("places negative clicks when the predictor overshoots", async () => {
    const result = await simulateSession(
      gt,
      diskPredictor(width, height, () => 30),
    );
    expect(result.clicks.some((c) => c.label === 0)).toBe(true);
  });

  it("stops at the target IoU when asked", async () => {
    const result = await simulateSession(
      gt,
      diskPredictor(width, height, () => 14),
      { stopAtIou: 0.7 },
    );
    expect(result.ious.at(-1)!).toBeGreaterThanOrEqual(0.7);
    expect(result.ious.slice(0, -1).every((iou) => iou < 0.7)).toBe(true);
  });

  it("stops when the prediction is perfect", async () => {
    const result = await simulateSession(gt, () => gt.object);
    expect(result.ious).toEqual([1]);
  });

  it("passes every click so far to the predictor, oldest first", async () => {
    const seen: number[] = [];
    await simulateSession(
      gt,
      (clicks) => {
        seen.push(clicks.length);
        return maskFrom(width, height, () => false);
      },
      { maxClicks: 4 },
    );
    expect(seen).toEqual([1, 2, 3, 4]);
  });
});

describe("objectIoU", () => {
  it("leaves ignored pixels out of intersection and union", () => {
    const gt: GroundTruth = {
      object: { width: 4, height: 1, data: Uint8Array.from([1, 1, 0, 0]) },
      ignore: { width: 4, height: 1, data: Uint8Array.from([0, 0, 1, 0]) },
    };
    expect(objectIoU(gt, { width: 4, height: 1, data: Uint8Array.from([1, 1, 1, 0]) })).toBe(1);
    expect(objectIoU(gt, { width: 4, height: 1, data: Uint8Array.from([1, 0, 1, 1]) })).toBeCloseTo(
      1 / 3,
      12,
    );
  });
});
