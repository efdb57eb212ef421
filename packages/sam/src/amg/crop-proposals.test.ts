import { describe, expect, it } from "vitest";
import { upscaleLowResLogits } from "../upscale";
import type { CropBoxXYXY } from "./crop-boxes";
import { type BatchFilterParams, batchProposals, finishCrop } from "./crop-proposals";
import { emptyFilterCounts } from "./filter-counts";
import { LOW_RES_AREA } from "./low-res";
import { thresholdToPatch } from "./mask-patch";

/**
 * A 128x128 crop fills the whole 256x256 low-res grid, 2x2 cells per crop pixel. Cells 64..127 set to +10
 * (rest -10) cross zero half-way between cells, at 1024-frame pixel 255.5 / 511.5, which the 1024 -> 128
 * resize samples at 251.5 (out), 259.5 (in), 507.5 (in), 515.5 (out): crop pixels 32..63.
 */
function square(from: number, to: number, inside = 10, outside = -10): Float32Array {
  const out = new Float32Array(LOW_RES_AREA).fill(outside);
  for (let y = from; y < to; y++) for (let x = from; x < to; x++) out[y * 256 + x] = inside;
  return out;
}
const centre = () => square(64, 128); // crop pixels 32..63
const leftEdge = () => {
  const out = new Float32Array(LOW_RES_AREA).fill(-10);
  for (let y = 64; y < 128; y++) for (let x = 0; x < 64; x++) out[y * 256 + x] = 10; // crop columns 0..31
  return out;
};
const soft = () => square(64, 128, 0.5, -0.5); // nothing above +1: stability 0
const empty = () => new Float32Array(LOW_RES_AREA).fill(-10);

function decoderOutput(candidates: { logits: Float32Array; iou: number }[]) {
  const lowResLogits = new Float32Array(candidates.length * LOW_RES_AREA);
  const iou = new Float32Array(candidates.length);
  candidates.forEach((c, i) => {
    lowResLogits.set(c.logits, i * LOW_RES_AREA);
    iou[i] = c.iou;
  });
  return { lowResLogits, iou };
}

// The right half of a 256x128 image: its left side (x = 128) is inside the image.
const crop: CropBoxXYXY = [128, 0, 256, 128];
const frame = { cropBox: crop, imageWidth: 256, imageHeight: 128 };
const params: BatchFilterParams = { predIouThresh: 0.5, stabilityScoreThresh: 0.95, stabilityScoreOffset: 1 };
const points = Float32Array.of(10, 20, 30, 40);
const output = () =>
  decoderOutput([
    // point 0: token 0 (single-mask output, never a candidate), then SAM's three candidates
    { logits: centre(), iou: 0.99 },
    { logits: centre(), iou: 0.75 },
    { logits: soft(), iou: 0.75 },
    { logits: centre(), iou: 0.5 }, // not strictly above 0.5
    // point 1
    { logits: centre(), iou: 0.99 },
    { logits: leftEdge(), iou: 0.875 },
    { logits: centre(), iou: 0.625 },
    { logits: empty(), iou: 0.625 },
  ]);

describe("batchProposals (SAM's _process_batch on low-res logits)", () => {
  it("filters predicted IoU, stability and crop edges in that order, on tokens 1-3 only", () => {
    const counts = emptyFilterCounts();
    const kept = batchProposals(output(), points, frame, params, counts);
    expect(counts).toMatchObject({ candidates: 6, predIou: 5, stability: 3, cropEdge: 2 });
    expect(kept.map((p) => [p.predictedIou, p.point])).toEqual([
      [0.75, [10, 20]],
      [0.625, [30, 40]],
    ]);
    const first = kept[0]!;
    expect(first.box).toEqual([32, 32, 63, 63]);
    expect(first.area).toBe(1024);
    expect(first.cropBox).toEqual(crop);
    expect(first.patch).toMatchObject({ x0: 32, y0: 32, width: 32, height: 32 });
  });

  it("reports SAM's stability score: the one on the logits upsampled to the crop", () => {
    const [first] = batchProposals(output(), points, frame, params, emptyFilterCounts());
    const exact = thresholdToPatch(upscaleLowResLogits(centre(), 128, 128), 128, 128, 1).stabilityScore;
    expect(first!.stabilityScore).toBe(exact);
    expect(first!.stabilityScore).toBeGreaterThan(0.95);
  });

  it("skips the IoU and stability filters when their thresholds are 0, as SAM does, but never keeps an empty mask", () => {
    const counts = emptyFilterCounts();
    const all = { predIouThresh: 0, stabilityScoreThresh: 0, stabilityScoreOffset: 1 };
    const kept = batchProposals(output(), points, frame, all, counts);
    expect(counts).toMatchObject({ candidates: 6, predIou: 6, stability: 6, cropEdge: 4 });
    expect(kept.map((p) => p.predictedIou)).toEqual([0.75, 0.75, 0.5, 0.625]);
  });

  it("refuses decoder output of the wrong size", () => {
    expect(() =>
      batchProposals(
        decoderOutput([{ logits: centre(), iou: 1 }]),
        points,
        frame,
        params,
        emptyFilterCounts(),
      ),
    ).toThrow(RangeError);
  });
});

describe("finishCrop (NMS within the crop, then uncrop)", () => {
  it("keeps the higher predicted IoU of two duplicates and moves everything to the image frame", () => {
    const counts = emptyFilterCounts();
    const proposals = batchProposals(output(), points, frame, params, counts);
    const done = finishCrop(proposals, crop, 0.7, counts);
    expect(counts.boxNms).toBe(1);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({
      predictedIou: 0.75,
      box: [160, 32, 191, 63],
      point: [138, 20],
      patch: { x0: 160, y0: 32, width: 32, height: 32 },
    });
  });

  it("keeps both when they overlap less than the threshold, best first", () => {
    const counts = emptyFilterCounts();
    const a = batchProposals(output(), points, frame, params, counts);
    const moved = { ...a[1]!, box: [80, 80, 111, 111] as [number, number, number, number] };
    expect(finishCrop([moved, a[0]!], crop, 0.7, counts).map((p) => p.predictedIou)).toEqual([0.75, 0.625]);
  });
});
