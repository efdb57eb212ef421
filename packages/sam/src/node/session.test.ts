/**
 * Model-backed tests: the real encoder and decoder on the shared fixture images, against reference masks
 * in packages/sam/test-data (made with many-click prompts and inspected; see make-references.ts).
 * Each image is encoded once for the whole file.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BinaryMask } from "@sas/sa1b";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskArea, maskBbox } from "../postprocess";
import { promptToFeeds } from "../prompt-feeds";
import type { ImageEmbedding, PointPrompt, SamPrompt } from "../types";
import { upscaleLowResLogits } from "../upscale";
import { decodeImage } from "./decode-image";
import { defaultModelFiles } from "./model-files";
import { NodeSam } from "./session";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../../..");
const fixture = (name: string) => path.resolve(repoRoot, "fixtures/images", name);
const testData = (name: string) => path.resolve(repoRoot, "packages/sam/test-data", name);

async function readReference(name: string): Promise<BinaryMask> {
  const { data, info } = await sharp(testData(name))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: Uint8Array.from(data, (v) => (v > 127 ? 1 : 0)) };
}

function intersection(a: BinaryMask, b: BinaryMask): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) n += a.data[i]! & b.data[i]!;
  return n;
}
const iou = (a: BinaryMask, b: BinaryMask) => {
  const i = intersection(a, b);
  return i / (maskArea(a) + maskArea(b) - i);
};
/** Fraction of `of` that `mask` covers. */
const coverage = (mask: BinaryMask, of: BinaryMask) => intersection(mask, of) / maskArea(of);
const P = (x: number, y: number, label: 0 | 1): PointPrompt => ({ x, y, label });

let sam: NodeSam;
let dogs: ImageEmbedding;
let truck: ImageEmbedding;
let golden: BinaryMask;
let black: BinaryMask;
let truckRef: BinaryMask;

beforeAll(async () => {
  sam = await NodeSam.load(defaultModelFiles(), { intraOpThreads: 2 });
  dogs = await sam.encode(await decodeImage(fixture("dogs.jpg")));
  truck = await sam.encode(await decodeImage(fixture("truck.jpg")));
  golden = await readReference("dogs-golden.png");
  black = await readReference("dogs-black.png");
  truckRef = await readReference("truck.png");
}, 60_000);

afterAll(async () => {
  await sam?.release();
});

describe("NodeSam on real images", () => {
  it("encodes to a [1,256,64,64] embedding at the oriented original size", () => {
    expect(dogs.dims).toEqual([1, 256, 64, 64]);
    expect(dogs.data.length).toBe(256 * 64 * 64);
    expect([dogs.imageWidth, dogs.imageHeight]).toEqual([1072, 603]);
    expect([truck.imageWidth, truck.imageHeight]).toEqual([1800, 1200]);
    expect(dogs.data.some((v) => v !== 0)).toBe(true);
  });

  it("segments each dog from a click on it (plus a background click on the other dog)", async () => {
    const g = await sam.decode(dogs, { points: [P(510, 350, 1), P(660, 410, 0)] });
    expect([g.best.mask.width, g.best.mask.height]).toEqual([1072, 603]);
    expect(iou(g.best.mask, golden)).toBeGreaterThan(0.9);
    expect(coverage(g.best.mask, black)).toBeLessThan(0.05);

    const b = await sam.decode(dogs, { points: [P(660, 410, 1), P(520, 380, 0)] });
    expect(iou(b.best.mask, black)).toBeGreaterThan(0.9);
    expect(coverage(b.best.mask, golden)).toBeLessThan(0.05);

    // the scores come from the same logits as the mask
    expect(g.best.area).toBe(maskArea(g.best.mask));
    expect(g.best.bbox).toEqual(maskBbox(g.best.mask));
    expect(g.best.stabilityScore).toBeGreaterThan(0.8);
    expect(g.best.stabilityScore).toBeLessThanOrEqual(1);
    expect(g.best.lowResLogits.length).toBe(256 * 256);
  });

  it("segments the truck from a box", async () => {
    const r = await sam.decode(truck, { points: [], box: { x0: 75, y0: 275, x1: 1715, y1: 855 } });
    expect([r.best.mask.width, r.best.mask.height]).toEqual([1800, 1200]);
    expect(iou(r.best.mask, truckRef)).toBeGreaterThan(0.9);
    const [x, y, w, h] = r.best.bbox;
    expect(x).toBeGreaterThanOrEqual(75);
    expect(y).toBeGreaterThanOrEqual(275);
    expect(x + w).toBeLessThanOrEqual(1715);
    expect(y + h).toBeLessThanOrEqual(855);
  });

  it("removes a wrongly included region with a background click and the previous logits", async () => {
    // One click on the golden dog: this model's preferred candidate is both dogs.
    const first = await sam.decode(dogs, { points: [P(520, 380, 1)] });
    expect(coverage(first.best.mask, black)).toBeGreaterThan(0.9);
    expect(coverage(first.best.mask, golden)).toBeGreaterThan(0.9);

    const second = await sam.decode(dogs, {
      points: [P(520, 380, 1), P(670, 350, 0)],
      maskInput: first.best.lowResLogits,
    });
    expect(coverage(second.best.mask, black)).toBeLessThan(0.05);
    expect(coverage(second.best.mask, golden)).toBeGreaterThan(0.9);
    expect(iou(second.best.mask, golden)).toBeGreaterThan(0.9);
    expect(second.best.area).toBeLessThan(first.best.area * 0.6);
  });

  it("the dense prompt is used: the same clicks without it give a different mask", async () => {
    const first = await sam.decode(dogs, { points: [P(520, 380, 1)] });
    const withMask = await sam.decode(dogs, {
      points: [P(520, 380, 1), P(670, 350, 0)],
      maskInput: first.best.lowResLogits,
    });
    const without = await sam.decode(dogs, { points: [P(520, 380, 1), P(670, 350, 0)] });
    expect(iou(withMask.best.mask, without.best.mask)).toBeLessThan(0.999);
  });
});

describe("multi-mask decoding", () => {
  let stock: ort.InferenceSession;
  beforeAll(async () => {
    stock = await ort.InferenceSession.create(defaultModelFiles().decoderPath, { intraOpNumThreads: 2 });
  });
  afterAll(async () => {
    await stock?.release();
  });

  async function runStock(embedding: ImageEmbedding, prompt: SamPrompt) {
    const f = promptToFeeds(prompt, embedding.imageWidth, embedding.imageHeight);
    const t = (x: { data: Float32Array; dims: number[] }) => new ort.Tensor("float32", x.data, x.dims);
    const out = await stock.run({
      image_embeddings: new ort.Tensor("float32", embedding.data, [1, 256, 64, 64]),
      point_coords: t(f.point_coords),
      point_labels: t(f.point_labels),
      mask_input: t(f.mask_input),
      has_mask_input: t(f.has_mask_input),
      orig_im_size: t(f.orig_im_size),
    });
    const masks = out.masks!.data as Float32Array;
    const mask = Uint8Array.from(masks, (v) => (v > 0 ? 1 : 0));
    return {
      mask,
      iou: (out.iou_predictions!.data as Float32Array)[0]!,
      lowRes: out.low_res_masks!.data as Float32Array,
    };
  }

  const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0;

  it("returns SAM's three candidates with IoU predictions, best equal to the stock decoder's mask", async () => {
    const prompt: SamPrompt = { points: [P(520, 380, 1)] };
    const r = await sam.decode(dogs, prompt, { multimask: true });
    expect(r.candidates.map((c) => c.index)).toEqual([1, 2, 3]);
    for (const c of r.candidates) {
      expect(Number.isFinite(c.predictedIou)).toBe(true);
      expect(c.predictedIou).toBeGreaterThan(0.3);
      expect(c.predictedIou).toBeLessThan(1.2);
      expect(c.lowResLogits.length).toBe(65536);
      expect([c.mask.width, c.mask.height]).toEqual([1072, 603]);
    }
    // three different masks: the ambiguity SAM exposes (part / dog / both dogs)
    const areas = r.candidates.map((c) => c.area);
    expect(new Set(areas).size).toBe(3);
    expect(Math.min(...areas)).toBeLessThan(0.5 * Math.max(...areas));
    expect(r.candidates).toContain(r.best);

    const s = await runStock(dogs, prompt);
    expect(sameBytes(r.best.mask.data, s.mask)).toBe(true);
    expect(r.best.predictedIou).toBe(s.iou);
    expect(sameBytes(r.best.lowResLogits, s.lowRes)).toBe(true);
    // the single-mask call returns the same thing
    const single = await sam.decode(dogs, prompt);
    expect(single.candidates).toHaveLength(1);
    expect(single.best.index).toBe(r.best.index);
    expect(sameBytes(single.best.mask.data, s.mask)).toBe(true);
  });

  it("matches the stock choice of the single-mask token when there are several clicks", async () => {
    const prompt: SamPrompt = { points: [P(510, 350, 1), P(660, 410, 0)] };
    const r = await sam.decode(dogs, prompt, { multimask: true });
    expect(r.best.index).toBe(0);
    expect(r.candidates.map((c) => c.index)).toEqual([1, 2, 3]);
    const s = await runStock(dogs, prompt);
    expect(sameBytes(r.best.mask.data, s.mask)).toBe(true);
    expect(r.best.predictedIou).toBe(s.iou);
  });

  it("decodes a batch of prompts in one run with the same results as one by one", async () => {
    const prompts: SamPrompt[] = [
      { points: [P(510, 350, 1), P(660, 410, 0)] },
      { points: [P(660, 410, 1), P(520, 380, 0)] },
    ];
    const batch = await sam.decodeBatch(dogs, prompts);
    expect(batch).toHaveLength(2);
    for (const [i, p] of prompts.entries()) {
      const one = await sam.decode(dogs, p);
      expect(iou(batch[i]!.best.mask, one.best.mask)).toBeGreaterThan(0.995);
      expect(batch[i]!.best.predictedIou).toBeCloseTo(one.best.predictedIou, 3);
    }
    expect(iou(batch[0]!.best.mask, golden)).toBeGreaterThan(0.9);
    expect(iou(batch[1]!.best.mask, black)).toBeGreaterThan(0.9);
  });
});

describe("upscaleLowResLogits", () => {
  it("turns the low-res logits into the stock decoder's full-resolution mask", async () => {
    const cases: [ImageEmbedding, SamPrompt][] = [
      [dogs, { points: [P(510, 350, 1), P(660, 410, 0)] }],
      [truck, { points: [], box: { x0: 75, y0: 275, x1: 1715, y1: 855 } }],
    ];
    for (const [embedding, prompt] of cases) {
      const { best } = await sam.decode(embedding, prompt);
      const logits = upscaleLowResLogits(best.lowResLogits, embedding.imageWidth, embedding.imageHeight);
      expect(logits.length).toBe(embedding.imageWidth * embedding.imageHeight);
      let differ = 0;
      for (let i = 0; i < logits.length; i++) if ((logits[i]! > 0 ? 1 : 0) !== best.mask.data[i]) differ++;
      // Float rounding may flip a pixel whose logit is within ~1e-6 of the threshold; nothing more.
      expect(differ).toBeLessThanOrEqual(Math.ceil(best.area * 1e-4));
      expect(best.area).toBeGreaterThan(1000);
    }
  });
});
