import { describe, expect, it } from "vitest";
import { isBoxNearCropEdge, maskBoxToXywh, uncropBox, uncropPoint } from "./boxes";
import type { CropBoxXYXY } from "./crop-boxes";

describe("SAM's bbox convention", () => {
  it("xywh of the inclusive box is one pixel narrower than COCO's", () => {
    // A mask covering columns 3..7 and rows 4..4: COCO would say w 5, h 1.
    expect(maskBoxToXywh([3, 4, 7, 4])).toEqual([3, 4, 4, 0]);
    expect(maskBoxToXywh([2, 2, 2, 2])).toEqual([2, 2, 0, 0]);
  });
});

describe("uncrop", () => {
  it("moves boxes and points by the crop's top-left corner", () => {
    expect(uncropBox([1, 2, 3, 4], [580, 330, 1500, 1000])).toEqual([581, 332, 583, 334]);
    expect(uncropPoint(10.5, 20.25, [580, 330, 1500, 1000])).toEqual([590.5, 350.25]);
  });
});

describe("isBoxNearCropEdge (SAM's crop-edge filter, atol 20)", () => {
  // Top-right crop of a 1500x1000 image (layer 1): its left and bottom sides are inside the image.
  const crop: CropBoxXYXY = [580, 0, 1500, 671];
  const near = (box: [number, number, number, number]) => isBoxNearCropEdge(box, crop, 1500, 1000);

  it("flags a mask touching a crop side that is not an image side", () => {
    expect(near([5, 100, 200, 300])).toBe(true); // left side (x0 = 585 vs crop 580)
    expect(near([100, 100, 200, 670])).toBe(true); // bottom (inclusive y1 670 vs crop y1 671)
  });

  it("keeps a mask touching crop sides that are also image sides", () => {
    expect(near([100, 0, 919, 300])).toBe(false); // top and right are the image's
  });

  it("keeps a mask well inside the crop", () => {
    expect(near([100, 100, 200, 300])).toBe(false);
  });

  it("uses |a - b| <= 20", () => {
    expect(near([20, 100, 200, 300])).toBe(true);
    expect(near([21, 100, 200, 300])).toBe(false);
    expect(near([100, 100, 200, 651])).toBe(true);
    expect(near([100, 100, 200, 650])).toBe(false);
  });

  it("never flags anything in the whole-image crop", () => {
    const whole: CropBoxXYXY = [0, 0, 1500, 1000];
    expect(isBoxNearCropEdge([0, 0, 1499, 999], whole, 1500, 1000)).toBe(false);
    expect(isBoxNearCropEdge([3, 990, 10, 999], whole, 1500, 1000)).toBe(false);
  });

  it("an image side within 20 px of a crop side counts as an image side", () => {
    // A crop starting at x = 15: masks at its left edge are also near the image's left edge.
    expect(isBoxNearCropEdge([0, 50, 30, 60], [15, 0, 300, 300], 1000, 1000)).toBe(false);
  });
});
