/**
 * The batched point decoder against the stock decoder (its multi-mask derivation, whose candidate tensors
 * are the stock graph's own), decoded one point at a time, on real embeddings of the shared fixtures.
 * The derived graphs go to a fresh cache directory, so the current derivation is what is tested.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveMultimaskDecoder, MULTIMASK_OUTPUTS } from "../multimask";
import { promptToFeeds } from "../prompt-feeds";
import type { ImageEmbedding } from "../types";
import { decodeImage } from "./decode-image";
import { defaultModelFiles, readVerifiedModelFile } from "./model-files";
import { BatchPointDecoder } from "./point-decoder";
import { NodeSam } from "./session";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.resolve(here, "../../../../fixtures/images", name);

const AREA = 256 * 256;
const PER_POINT = 4 * AREA;
/** Logits: only the float summation order differs from stock (see `deriveBrowserDecoder`). */
const LOGIT_TOLERANCE = 1e-3;
const IOU_TOLERANCE = 1e-4;

let cacheDir: string;
let stock: ort.InferenceSession;
let decoder: BatchPointDecoder;
let dogs: ImageEmbedding;
let truck: ImageEmbedding;

beforeAll(async () => {
  const files = defaultModelFiles();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "point-decoder-test-"));
  const stockBytes = await readVerifiedModelFile(files.decoderPath, files.decoderSha256);
  const sam = await NodeSam.load(files, { intraOpThreads: 2 });
  [stock, decoder] = await Promise.all([
    ort.InferenceSession.create(deriveMultimaskDecoder(stockBytes, { fullResMasks: false }), {
      intraOpNumThreads: 2,
    }),
    // batches of 3: seven points are decoded as 3 + 3 + 1
    BatchPointDecoder.load(files, { cacheDir, intraOpThreads: 2, batchSize: 3 }),
  ]);
  dogs = await sam.encode(await decodeImage(fixture("dogs.jpg")));
  truck = await sam.encode(await decodeImage(fixture("truck.jpg")));
  await sam.release();
}, 120_000);

afterAll(async () => {
  await Promise.all([stock?.release(), decoder?.release()]);
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

/** The stock decoder on one click + padding point: all four candidates' low-res logits and IoU. */
async function stockDecode(e: ImageEmbedding, x: number, y: number) {
  const f = promptToFeeds({ points: [{ x, y, label: 1 }] }, e.imageWidth, e.imageHeight);
  const t = (feed: { data: Float32Array; dims: number[] }) => new ort.Tensor("float32", feed.data, feed.dims);
  const out = await stock.run(
    {
      image_embeddings: new ort.Tensor("float32", e.data, [...e.dims]),
      point_coords: t(f.point_coords),
      point_labels: t(f.point_labels),
      mask_input: t(f.mask_input),
      has_mask_input: t(f.has_mask_input),
      orig_im_size: t(f.orig_im_size),
    },
    [MULTIMASK_OUTPUTS.lowResMasks, MULTIMASK_OUTPUTS.iouPredictions],
  );
  return {
    lowResLogits: out[MULTIMASK_OUTPUTS.lowResMasks]!.data as Float32Array,
    iou: out[MULTIMASK_OUTPUTS.iouPredictions]!.data as Float32Array,
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Points in original-image pixels, as fractions of the image size (edges and corners included). */
function points(e: ImageEmbedding, fractions: [number, number][]): Float32Array {
  return Float32Array.from(fractions.flatMap(([fx, fy]) => [fx * e.imageWidth, fy * e.imageHeight]));
}

const DOGS_POINTS: [number, number][] = [
  [0.3, 0.55],
  [0.62, 0.5],
  [0.5, 0.1],
  [0.02, 0.98],
  [0.85, 0.7],
  [0.999, 0.001],
  [0.45, 0.8],
];

describe("BatchPointDecoder", () => {
  it("returns all four candidates' low-res logits and IoU as the stock decoder does, point by point", async () => {
    const pts = points(dogs, DOGS_POINTS);
    const result = await decoder.decodePoints(dogs, pts);
    expect(result.lowResLogits.length).toBe(DOGS_POINTS.length * PER_POINT);
    expect(result.iou.length).toBe(DOGS_POINTS.length * 4);
    let worstLogit = 0;
    let worstIou = 0;
    for (let i = 0; i < DOGS_POINTS.length; i++) {
      const ref = await stockDecode(dogs, pts[2 * i]!, pts[2 * i + 1]!);
      worstLogit = Math.max(
        worstLogit,
        maxAbsDiff(result.lowResLogits.subarray(i * PER_POINT, (i + 1) * PER_POINT), ref.lowResLogits),
      );
      worstIou = Math.max(worstIou, maxAbsDiff(result.iou.subarray(4 * i, 4 * i + 4), ref.iou));
    }
    expect(worstLogit).toBeLessThan(LOGIT_TOLERANCE);
    expect(worstIou).toBeLessThan(IOU_TOLERANCE);
  }, 120_000);

  it("gives each point the same result alone, in a mixed batch and in another order", async () => {
    const pts = points(dogs, DOGS_POINTS);
    const all = await decoder.decodePoints(dogs, pts);
    // reversed, so every point lands in another chunk at another position
    const reversed = Float32Array.from(
      DOGS_POINTS.flatMap((_, i) => [...pts.subarray(2 * (6 - i), 2 * (7 - i))]),
    );
    const back = await decoder.decodePoints(dogs, reversed);
    for (let i = 0; i < DOGS_POINTS.length; i++) {
      const j = DOGS_POINTS.length - 1 - i;
      const alone = await decoder.decodePoints(dogs, pts.subarray(2 * i, 2 * i + 2));
      const inBatch = all.lowResLogits.subarray(i * PER_POINT, (i + 1) * PER_POINT);
      expect(maxAbsDiff(alone.lowResLogits, inBatch)).toBeLessThan(1e-5);
      expect(
        maxAbsDiff(back.lowResLogits.subarray(j * PER_POINT, (j + 1) * PER_POINT), inBatch),
      ).toBeLessThan(1e-5);
      expect(maxAbsDiff(alone.iou, all.iou.subarray(4 * i, 4 * i + 4))).toBeLessThan(1e-6);
    }
  }, 120_000);

  it("keeps each embedding's per-image tensors apart", async () => {
    const truckPts = points(truck, [
      [0.5, 0.5],
      [0.2, 0.8],
    ]);
    const dogsPts = points(dogs, DOGS_POINTS.slice(0, 2));
    const [t, d] = await Promise.all([
      decoder.decodePoints(truck, truckPts),
      decoder.decodePoints(dogs, dogsPts),
    ]);
    for (let i = 0; i < 2; i++) {
      const refT = await stockDecode(truck, truckPts[2 * i]!, truckPts[2 * i + 1]!);
      const refD = await stockDecode(dogs, dogsPts[2 * i]!, dogsPts[2 * i + 1]!);
      expect(
        maxAbsDiff(t.lowResLogits.subarray(i * PER_POINT, (i + 1) * PER_POINT), refT.lowResLogits),
      ).toBeLessThan(LOGIT_TOLERANCE);
      expect(
        maxAbsDiff(d.lowResLogits.subarray(i * PER_POINT, (i + 1) * PER_POINT), refD.lowResLogits),
      ).toBeLessThan(LOGIT_TOLERANCE);
    }
  }, 120_000);

  it("returns empty results for no points and rejects malformed input", async () => {
    const empty = await decoder.decodePoints(dogs, new Float32Array(0));
    expect(empty.lowResLogits.length).toBe(0);
    expect(empty.iou.length).toBe(0);
    await expect(decoder.decodePoints(dogs, Float32Array.of(1, 2, 3))).rejects.toThrow(RangeError);
    await expect(decoder.decodePoints(dogs, Float32Array.of(1, Number.NaN))).rejects.toThrow(RangeError);
    await expect(
      decoder.decodePoints({ ...dogs, data: new Float32Array(10) }, Float32Array.of(1, 2)),
    ).rejects.toThrow(RangeError);
  });
});
