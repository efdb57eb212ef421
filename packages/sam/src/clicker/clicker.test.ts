import type { BinaryMask } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import { Clicker, type GroundTruth, groundTruthFromGray, nextClick, withoutIgnored } from "./clicker";

function maskFrom(width: number, height: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

const empty = (width: number, height: number) => maskFrom(width, height, () => false);

describe("nextClick: first click", () => {
  it("lands at the centre of a square", () => {
    // Odd side gives a unique centre: x in [10, 30], y in [14, 34] -> (20, 24).
    const gt: GroundTruth = { object: maskFrom(50, 40, (x, y) => x >= 10 && x <= 30 && y >= 14 && y <= 34) };
    expect(nextClick(gt, null)).toEqual({ x: 20, y: 24, label: 1 });
  });

  it("lands on the centre line of an elongated rectangle, at the first of the equally deep points", () => {
    // 21x15: every pixel of the centre row with x in [17, 23] is 8 px from the boundary.
    const gt: GroundTruth = { object: maskFrom(50, 40, (x, y) => x >= 10 && x <= 30 && y >= 20 && y <= 34) };
    expect(nextClick(gt, null)).toEqual({ x: 17, y: 27, label: 1 });
  });

  it("lands at the centre of a disk", () => {
    const gt: GroundTruth = { object: maskFrom(64, 48, (x, y) => (x - 40) ** 2 + (y - 21) ** 2 <= 12 ** 2) };
    expect(nextClick(gt, null)).toEqual({ x: 40, y: 21, label: 1 });
  });

  it("treats the image edge as boundary, so an object filling a corner is clicked inside it", () => {
    // Without the 1-px zero padding the deepest point would be the far corner (0, 0).
    const gt: GroundTruth = { object: maskFrom(40, 40, (x, y) => x <= 20 && y <= 20) };
    const click = nextClick(gt, null);
    expect(click?.label).toBe(1);
    expect(click?.x).toBe(10);
    expect(click?.y).toBe(10);
  });

  it("takes the first pixel in row-major order among equally deep points", () => {
    // A 4x2 object: its deepest pixels tie, the reference keeps the first found scanning rows.
    const gt: GroundTruth = { object: maskFrom(10, 10, (x, y) => x >= 3 && x <= 6 && y >= 4 && y <= 5) };
    expect(nextClick(gt, null)).toEqual({ x: 3, y: 4, label: 1 });
  });
});

describe("nextClick: corrections", () => {
  const width = 80;
  const height = 60;
  const gt: GroundTruth = {
    object: maskFrom(width, height, (x, y) => x >= 10 && x < 50 && y >= 10 && y < 50),
  };

  it("clicks positive in a missed part of the object when that error is deeper", () => {
    // Prediction covers the left half only; the missed right half (20x40) is the larger error.
    const pred = maskFrom(width, height, (x, y) => x >= 10 && x < 30 && y >= 10 && y < 50);
    const click = nextClick(gt, pred);
    expect(click?.label).toBe(1);
    expect(click?.x).toBeGreaterThanOrEqual(30);
    expect(click?.x).toBeLessThan(50);
    expect(gt.object.data[click!.y * width + click!.x]).toBe(1);
  });

  it("clicks negative in a false-positive blob when that error is deeper", () => {
    // Object fully covered, plus a 20x20 false blob on the background and a thin 2-px missed strip.
    const pred = maskFrom(
      width,
      height,
      (x, y) => (x >= 10 && x < 50 && y >= 10 && y < 48) || (x >= 55 && x < 75 && y >= 20 && y < 40),
    );
    const click = nextClick(gt, pred);
    expect(click).toEqual({ x: 64, y: 29, label: 0 });
  });

  it("breaks a tie between the two error regions towards a negative click", () => {
    const g: GroundTruth = { object: maskFrom(20, 9, (x, y) => x >= 1 && x <= 3 && y >= 3 && y <= 5) };
    // Missed 3x3 object and a 3x3 false positive elsewhere: equal depth.
    const pred = maskFrom(20, 9, (x, y) => x >= 12 && x <= 14 && y >= 3 && y <= 5);
    expect(nextClick(g, pred)).toEqual({ x: 13, y: 4, label: 0 });
  });

  it("returns null when the prediction is perfect", () => {
    expect(nextClick(gt, gt.object)).toBeNull();
  });

  it("rejects a prediction of another size", () => {
    expect(() => nextClick(gt, empty(10, 10))).toThrow(RangeError);
  });
});

describe("ignored pixels", () => {
  it("parses grey ground truth: > 128 object, 128 ignored, the rest background", () => {
    const gt = groundTruthFromGray([0, 127, 128, 129, 255], 5, 1);
    expect(Array.from(gt.object.data)).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(gt.ignore?.data ?? [])).toEqual([0, 0, 1, 0, 0]);
    expect(groundTruthFromGray([0, 255], 2, 1).ignore).toBeUndefined();
  });

  it("never clicks on an ignored pixel and treats the void band as boundary", () => {
    // 9x9 object whose left 4 columns are void: the usable object is x in [10, 14], so the click
    // moves right to x = 12 (first of the equally deep points down that column).
    const width = 30;
    const height = 21;
    const gray = new Uint8Array(width * height);
    for (let y = 6; y <= 14; y++) for (let x = 6; x <= 14; x++) gray[y * width + x] = x < 10 ? 128 : 255;
    const gt = groundTruthFromGray(gray, width, height);
    expect(nextClick(gt, null)).toEqual({ x: 12, y: 8, label: 1 });
  });

  it("ignores false positives over the void band", () => {
    const width = 30;
    const height = 20;
    const gray = new Uint8Array(width * height);
    for (let y = 5; y < 15; y++) for (let x = 2; x < 8; x++) gray[y * width + x] = 255;
    // A big void area on the right: predicting it costs nothing, so no negative click goes there.
    for (let y = 0; y < height; y++) for (let x = 15; x < width; x++) gray[y * width + x] = 128;
    const gt = groundTruthFromGray(gray, width, height);
    const pred = maskFrom(width, height, (x, y) => (x >= 2 && x < 8 && y >= 5 && y < 15) || x >= 15);
    expect(nextClick(gt, pred)).toBeNull();
    expect(Array.from(withoutIgnored(gt, pred).data)).toEqual(Array.from(gt.object.data));
  });
});

describe("Clicker", () => {
  it("records clicks and never clicks the same pixel twice", () => {
    const width = 21;
    const height = 21;
    const gt: GroundTruth = {
      object: maskFrom(width, height, (x, y) => (x - 10) ** 2 + (y - 10) ** 2 <= 36),
    };
    const clicker = new Clicker(gt);
    const first = clicker.click(null);
    expect(first).toEqual({ x: 10, y: 10, label: 1 });
    // A predictor that never changes its mind would otherwise get the same click forever.
    const second = clicker.click(empty(width, height));
    expect(second?.label).toBe(1);
    expect(second).not.toEqual(first);
    expect(clicker.clicks).toEqual([first, second]);
  });
});
