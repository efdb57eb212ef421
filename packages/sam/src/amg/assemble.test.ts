import { createMask, decodeRle, rleArea, rleToBbox } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import { maskBbox } from "../postprocess";
import { toAutoMask } from "./assemble";
import { maskToPatch } from "./mask-patch";

describe("toAutoMask (SAM's output record)", () => {
  it("encodes the whole-image mask and reports SAM's inclusive xywh box, the point and the crop as xywh", () => {
    const m = createMask(40, 30);
    for (let y = 5; y <= 9; y++) for (let x = 12; x <= 20; x++) m.data[y * 40 + x] = 1;
    const { patch, box, area } = maskToPatch(m);
    const out = toAutoMask(
      {
        patch,
        box,
        area,
        predictedIou: 0.93,
        stabilityScore: 0.96,
        point: [15.5, 7.25],
        cropBox: [10, 0, 40, 20],
      },
      40,
      30,
    );
    expect(out.rle.size).toEqual([30, 40]);
    expect(decodeRle(out.rle).data).toEqual(m.data);
    // Columns 12..20, rows 5..9: SAM says w = 20 - 12 = 8, h = 4; COCO's toBbox says 9 x 5.
    expect(out.bbox).toEqual([12, 5, 8, 4]);
    expect(out.bbox).toEqual(maskBbox(decodeRle(out.rle)));
    expect(rleToBbox(out.rle)).toEqual([12, 5, 9, 5]);
    expect(out.area).toBe(45);
    expect(rleArea(out.rle)).toBe(45);
    expect(out.pointCoords).toEqual([[15.5, 7.25]]);
    expect(out.cropBox).toEqual([10, 0, 30, 20]);
    expect([out.predictedIou, out.stabilityScore]).toEqual([0.93, 0.96]);
  });
});
