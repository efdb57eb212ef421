import { describe, expect, it } from "vitest";
import { cropBoxToXywh, generateCropBoxes } from "./crop-boxes";
import { DEFAULT_AUTO_MASK_PARAMS } from "./params";

const RATIO = 512 / 1500;
const boxes = (w: number, h: number, layers: number) =>
  generateCropBoxes(w, h, layers, RATIO).map((c) => [c.layer, ...c.box]);

describe("generateCropBoxes (SAM's generate_crop_boxes)", () => {
  it("is just the whole image without crop layers", () => {
    expect(boxes(1500, 1000, 0)).toEqual([[0, 0, 0, 1500, 1000]]);
  });

  it("1500x1000, layer 1: overlap int(512/1500*1000) = 341, crops ceil((341+1500)/2) x ceil((341+1000)/2) = 921 x 671", () => {
    // x starts: 0, 921-341 = 580; y starts: 0, 671-341 = 330; ends clipped to the image; x outer, y inner.
    expect(boxes(1500, 1000, 1)).toEqual([
      [0, 0, 0, 1500, 1000],
      [1, 0, 0, 921, 671],
      [1, 0, 330, 921, 1000],
      [1, 580, 0, 1500, 671],
      [1, 580, 330, 1500, 1000],
    ]);
  });

  it("1500x1000, layer 2: overlap int(341.33/2) = 170, crops ceil(2010/4) x ceil(1510/4) = 503 x 378", () => {
    const layer2 = boxes(1500, 1000, 2).filter((b) => b[0] === 2);
    expect(layer2).toHaveLength(16);
    // x starts int(333 * i) = 0, 333, 666, 999; y starts int(208 * j) = 0, 208, 416, 624.
    const x = [
      [0, 503],
      [333, 836],
      [666, 1169],
      [999, 1500],
    ];
    const y = [
      [0, 378],
      [208, 586],
      [416, 794],
      [624, 1000],
    ];
    const expected = x.flatMap(([x0, x1]) => y.map(([y0, y1]) => [2, x0, y0, x1, y1]));
    expect(layer2).toEqual(expected);
  });

  it("640x480, layer 1: overlap int(163.84) = 163, crops ceil(401.5) x ceil(321.5) = 402 x 322", () => {
    expect(boxes(640, 480, 1)).toEqual([
      [0, 0, 0, 640, 480],
      [1, 0, 0, 402, 322],
      [1, 0, 159, 402, 480],
      [1, 239, 0, 640, 322],
      [1, 239, 159, 640, 480],
    ]);
  });

  it("uses the short side for the overlap of a portrait image too", () => {
    // 480x640: overlap 163 again; crops ceil((163+480)/2) = 322 wide, ceil((163+640)/2) = 402 tall.
    expect(boxes(480, 640, 1).slice(1)).toEqual([
      [1, 0, 0, 322, 402],
      [1, 0, 239, 322, 640],
      [1, 159, 0, 480, 402],
      [1, 159, 239, 480, 640],
    ]);
  });

  it("the default parameters give 1 + 4 crops", () => {
    const p = DEFAULT_AUTO_MASK_PARAMS;
    expect(generateCropBoxes(640, 480, p.cropNLayers, p.cropOverlapRatio)).toHaveLength(5);
  });

  it("reports crop boxes as xywh", () => {
    expect(cropBoxToXywh([580, 330, 1500, 1000])).toEqual([580, 330, 920, 670]);
  });

  it("rejects a non-integer or empty image size", () => {
    expect(() => generateCropBoxes(0, 10, 1, RATIO)).toThrow(RangeError);
    expect(() => generateCropBoxes(10.5, 10, 1, RATIO)).toThrow(RangeError);
  });
});
