import { createMask } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import {
  DRAWN_MASK_LOGIT,
  decoderPointCount,
  maskToLowResPrompt,
  promptsToBatchFeeds,
  promptToFeeds,
} from "./prompt-feeds";

const W = 1800;
const H = 1200;
const SX = 1024 / 1800;
const SY = 683 / 1200;

describe("promptToFeeds", () => {
  it("scales clicks into the 1024 frame and appends SAM's padding point when there is no box", () => {
    const f = promptToFeeds(
      {
        points: [
          { x: 900, y: 600, label: 1 },
          { x: 100, y: 50, label: 0 },
        ],
      },
      W,
      H,
    );
    expect(f.point_coords.dims).toEqual([1, 3, 2]);
    expect(f.point_labels.dims).toEqual([1, 3]);
    expect(Array.from(f.point_labels.data)).toEqual([1, 0, -1]);
    const c = f.point_coords.data;
    expect(c[0]).toBeCloseTo(900 * SX, 4);
    expect(c[1]).toBeCloseTo(600 * SY, 4);
    expect(c[2]).toBeCloseTo(100 * SX, 4);
    expect(c[3]).toBeCloseTo(50 * SY, 4);
    expect([c[4], c[5]]).toEqual([0, 0]);
    expect(Array.from(f.orig_im_size.data)).toEqual([H, W]);
    expect(f.orig_im_size.dims).toEqual([2]);
    expect(Array.from(f.has_mask_input.data)).toEqual([0]);
    expect(f.mask_input.dims).toEqual([1, 1, 256, 256]);
    expect(f.mask_input.data.length).toBe(65536);
    expect(f.mask_input.data.every((v) => v === 0)).toBe(true);
  });

  it("encodes a box as corners labelled 2 and 3 after the clicks, without a padding point", () => {
    const f = promptToFeeds(
      { points: [{ x: 10, y: 20, label: 1 }], box: { x0: 300, y0: 400, x1: 100, y1: 200 } },
      W,
      H,
    );
    expect(f.point_coords.dims).toEqual([1, 3, 2]);
    expect(Array.from(f.point_labels.data)).toEqual([1, 2, 3]);
    const c = f.point_coords.data;
    // corners normalised: (100,200) top-left, (300,400) bottom-right
    expect(c[2]).toBeCloseTo(100 * SX, 4);
    expect(c[3]).toBeCloseTo(200 * SY, 4);
    expect(c[4]).toBeCloseTo(300 * SX, 4);
    expect(c[5]).toBeCloseTo(400 * SY, 4);
    const boxOnly = promptToFeeds({ points: [], box: { x0: 0, y0: 0, x1: 1800, y1: 1200 } }, W, H);
    expect(Array.from(boxOnly.point_labels.data)).toEqual([2, 3]);
    expect(boxOnly.point_coords.data[2]).toBeCloseTo(1024, 3);
    expect(boxOnly.point_coords.data[3]).toBeCloseTo(683, 3);
  });

  it("passes a previous low-res mask as the dense prompt", () => {
    const prev = new Float32Array(65536).fill(-3);
    const f = promptToFeeds({ points: [{ x: 1, y: 1, label: 1 }], maskInput: prev }, W, H);
    expect(f.mask_input.data).toBe(prev);
    expect(Array.from(f.has_mask_input.data)).toEqual([1]);
    const zero = new Float32Array(65536);
    expect(
      promptToFeeds({ points: [{ x: 1, y: 1, label: 1 }] }, W, H, { zeroMask: zero }).mask_input.data,
    ).toBe(zero);
  });

  it("rejects empty prompts and wrongly sized masks", () => {
    expect(() => promptToFeeds({ points: [] }, W, H)).toThrow(/at least one point or a box/);
    expect(() =>
      promptToFeeds({ points: [{ x: 1, y: 1, label: 1 }], maskInput: new Float32Array(10) }, W, H),
    ).toThrow(/256x256/);
  });

  it("counts decoder points including padding or box corners", () => {
    expect(decoderPointCount({ points: [{ x: 1, y: 1, label: 1 }] })).toBe(2);
    expect(decoderPointCount({ points: [], box: { x0: 0, y0: 0, x1: 1, y1: 1 } })).toBe(2);
    expect(
      decoderPointCount({ points: [{ x: 1, y: 1, label: 0 }], box: { x0: 0, y0: 0, x1: 1, y1: 1 } }),
    ).toBe(3);
  });
});

describe("promptsToBatchFeeds", () => {
  it("stacks prompts as [B, N, 2], padding shorter ones with label -1", () => {
    const f = promptsToBatchFeeds(
      [
        { points: [{ x: 900, y: 600, label: 1 }] },
        {
          points: [
            { x: 90, y: 60, label: 1 },
            { x: 180, y: 120, label: 0 },
          ],
        },
        { points: [], box: { x0: 0, y0: 0, x1: 18, y1: 12 } },
      ],
      W,
      H,
    );
    expect(f.point_coords.dims).toEqual([3, 3, 2]);
    expect(f.point_labels.dims).toEqual([3, 3]);
    expect(Array.from(f.point_labels.data)).toEqual([1, -1, -1, 1, 0, -1, 2, 3, -1]);
    expect(f.point_coords.data[6]).toBeCloseTo(90 * SX, 4);
    expect(f.point_coords.data[15]).toBeCloseTo(12 * SY, 4);
  });

  it("refuses per-prompt dense prompts", () => {
    expect(() =>
      promptsToBatchFeeds([{ points: [{ x: 1, y: 1, label: 1 }], maskInput: new Float32Array(65536) }], W, H),
    ).toThrow(/maskInput/);
  });
});

describe("maskToLowResPrompt", () => {
  it("maps covered cells to +20, uncovered and padding to -20, edges in between", () => {
    // 1024x512 image: scale 1, so one low-res cell = 4x4 pixels; content is 256x128 cells.
    const m = createMask(1024, 512);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 42; x++) m.data[y * 1024 + x] = 1; // 10 full cells + half a column
    const p = maskToLowResPrompt(m);
    expect(p.length).toBe(65536);
    expect(p[0]).toBe(DRAWN_MASK_LOGIT);
    expect(p[9 * 256 + 9]).toBe(DRAWN_MASK_LOGIT);
    expect(p[10]).toBeCloseTo(0, 5); // column 10 covers x 40..43, half of it drawn
    expect(p[11]).toBe(-DRAWN_MASK_LOGIT);
    expect(p[10 * 256]).toBe(-DRAWN_MASK_LOGIT);
    expect(p[200 * 256 + 5]).toBe(-DRAWN_MASK_LOGIT); // padding rows (content ends at row 128)
  });

  it("area-averages when downscaling, so thin strokes still count", () => {
    // 2048x2048: each cell is 8x8 pixels; a 2-pixel-wide line covers a quarter of its cells.
    const m = createMask(2048, 2048);
    for (let y = 0; y < 2048; y++) m.data[y * 2048 + 100] = m.data[y * 2048 + 101] = 1;
    const p = maskToLowResPrompt(m, 10);
    expect(p[12]).toBeCloseTo(10 * (2 * 0.25 - 1), 5); // cell 12 covers x 96..103
    expect(p[13]).toBe(-10);
  });

  it("handles sizes that do not divide evenly", () => {
    const m = createMask(1072, 603);
    m.data.fill(1);
    const p = maskToLowResPrompt(m);
    expect(p[143 * 256 + 255]).toBeCloseTo(DRAWN_MASK_LOGIT, 3); // last content cell (576 / 4 = 144 rows)
    expect(p[144 * 256]).toBe(-DRAWN_MASK_LOGIT);
  });
});
