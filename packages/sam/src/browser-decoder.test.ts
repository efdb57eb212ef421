/**
 * The browser decoder models against the stock decoder (as its multi-mask derivation, whose stock outputs
 * are unchanged), on real embeddings of the shared fixture images, in onnxruntime-node.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROWSER_DECODER_INPUTS,
  BROWSER_DECODER_OUTPUTS,
  BrowserDecoderDerivationError,
  type BrowserDecoderModels,
  browserDecoderFeeds,
  deriveBrowserDecoder,
  stockCandidateFor,
} from "./browser-decoder";
import { deriveMultimaskDecoder, MULTIMASK_OUTPUTS } from "./multimask";
import { decodeImage } from "./node/decode-image";
import { defaultModelFiles, readVerifiedModelFile } from "./node/model-files";
import { NodeSam } from "./node/session";
import { parseModel } from "./onnx-graph";
import { type FeedTensor, promptToFeeds } from "./prompt-feeds";
import type { ImageEmbedding, SamPrompt } from "./types";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.resolve(here, "../../../fixtures/images", name);

let stockBytes: Uint8Array;
let models: BrowserDecoderModels;
let stock: ort.InferenceSession;
let prepare: ort.InferenceSession;
let click: ort.InferenceSession;
let refine: ort.InferenceSession;
let dogs: ImageEmbedding;
let truck: ImageEmbedding;

const tensor = (f: FeedTensor) => new ort.Tensor("float32", f.data, f.dims);
const embeddingTensor = (e: ImageEmbedding) => new ort.Tensor("float32", e.data, [...e.dims]);
const floats = (t: ort.Tensor | undefined) => t!.data as Float32Array;

beforeAll(async () => {
  const files = defaultModelFiles();
  stockBytes = await readVerifiedModelFile(files.decoderPath, files.decoderSha256);
  models = deriveBrowserDecoder(stockBytes);
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", intraOpNumThreads: 2 };
  const sam = await NodeSam.load(files, { intraOpThreads: 2 });
  const create = (m: Uint8Array) => ort.InferenceSession.create(m, opts);
  [stock, prepare, click, refine] = await Promise.all([
    create(deriveMultimaskDecoder(stockBytes, { fullResMasks: false })),
    create(models.prepare),
    create(models.click),
    create(models.refine),
  ]);
  dogs = await sam.encode(await decodeImage(fixture("dogs.jpg")));
  truck = await sam.encode(await decodeImage(fixture("truck.jpg")));
  await sam.release();
}, 60_000);

afterAll(async () => {
  await Promise.all([stock, prepare, click, refine].map((s) => s?.release()));
});

interface Decoded {
  lowRes: Float32Array;
  iou: Float32Array;
  /** Stock `low_res_masks` / the browser's `stockCandidateFor` pick. */
  chosen: Float32Array;
}

async function decodeStock(e: ImageEmbedding, prompt: SamPrompt): Promise<Decoded> {
  const f = promptToFeeds(prompt, e.imageWidth, e.imageHeight);
  const out = await stock.run(
    {
      image_embeddings: embeddingTensor(e),
      point_coords: tensor(f.point_coords),
      point_labels: tensor(f.point_labels),
      mask_input: tensor(f.mask_input),
      has_mask_input: tensor(f.has_mask_input),
      orig_im_size: tensor(f.orig_im_size),
    },
    [MULTIMASK_OUTPUTS.lowResMasks, MULTIMASK_OUTPUTS.iouPredictions, "low_res_masks"],
  );
  return {
    lowRes: floats(out[MULTIMASK_OUTPUTS.lowResMasks]),
    iou: floats(out[MULTIMASK_OUTPUTS.iouPredictions]),
    chosen: floats(out.low_res_masks),
  };
}

const preparedCache = new Map<ImageEmbedding, ort.InferenceSession.OnnxValueMapType>();

async function preparedFor(e: ImageEmbedding) {
  let prepared = preparedCache.get(e);
  if (!prepared) {
    prepared = await prepare.run({ [BROWSER_DECODER_INPUTS.imageEmbeddings]: embeddingTensor(e) });
    preparedCache.set(e, prepared);
  }
  return prepared;
}

async function decodeBrowser(e: ImageEmbedding, prompt: SamPrompt): Promise<Decoded & { model: string }> {
  const { model, feeds } = browserDecoderFeeds(prompt, e.imageWidth, e.imageHeight);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) inputs[k] = tensor(v);
  const out = await (model === "click" ? click : refine).run({ ...inputs, ...(await preparedFor(e)) });
  const lowRes = floats(out[BROWSER_DECODER_OUTPUTS.lowResMasks]);
  const iou = floats(out[BROWSER_DECODER_OUTPUTS.iouPredictions]);
  const k = stockCandidateFor(prompt, iou);
  return { model, lowRes, iou, chosen: lowRes.subarray(k * 65536, (k + 1) * 65536) };
}

/**
 * The rewritten graphs (see `graph-rewrites.ts`) compute the stock formulas in another summation order:
 * logits within 1e-3 of stock, and a mask pixel may only flip where the stock logit is itself within 1e-3
 * of the threshold (at most a handful).
 */
function expectSame(a: Decoded, b: Decoded) {
  expect(a.lowRes.length).toBe(4 * 256 * 256);
  expect(b.lowRes.length).toBe(a.lowRes.length);
  let maxDiff = 0;
  let flips = 0;
  let clearFlips = 0;
  for (let i = 0; i < a.lowRes.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a.lowRes[i]! - b.lowRes[i]!));
    if (a.lowRes[i]! > 0 !== b.lowRes[i]! > 0) {
      flips++;
      if (Math.abs(a.lowRes[i]!) >= 1e-3) clearFlips++;
    }
  }
  expect(maxDiff).toBeLessThan(1e-3);
  expect(clearFlips).toBe(0);
  expect(flips).toBeLessThanOrEqual(4);
  for (let i = 0; i < 4; i++) expect(b.iou[i]).toBeCloseTo(a.iou[i]!, 4);
  expect(b.chosen.length).toBe(a.chosen.length);
  let chosenDiff = 0;
  for (let i = 0; i < a.chosen.length; i++)
    chosenDiff = Math.max(chosenDiff, Math.abs(a.chosen[i]! - b.chosen[i]!));
  expect(chosenDiff).toBeLessThan(1e-3);
}

describe("deriveBrowserDecoder", () => {
  it("removes the full-resolution path, orig_im_size and every dead node from the files", () => {
    const refineGraph = parseModel(models.refine);
    const clickGraph = parseModel(models.click);
    const prepareGraph = parseModel(models.prepare);
    for (const g of [refineGraph, clickGraph]) {
      expect(g.outputs.map((o) => o.name)).toEqual([
        BROWSER_DECODER_OUTPUTS.lowResMasks,
        BROWSER_DECODER_OUTPUTS.iouPredictions,
      ]);
      expect(g.nodes.some((n) => n.opType === "Resize" || n.opType === "ArgMax")).toBe(false);
      expect(g.inputs.map((i) => i.name)).not.toContain("orig_im_size");
    }
    expect(refineGraph.inputs.map((i) => i.name)).toEqual([
      "point_coords",
      "point_labels",
      "mask_input",
      "has_mask_input",
      ...models.preparedNames,
    ]);
    expect(prepareGraph.inputs.map((i) => i.name)).toEqual(["image_embeddings"]);
    expect(prepareGraph.outputs.map((o) => o.name)).toEqual(models.preparedNames);
    expect(clickGraph.inputs.map((i) => i.name)).toEqual([
      "point_coords",
      "point_labels",
      ...models.preparedNames,
    ]);
    // the per-click graph does no image-only work: no Tile over the image, no mask path
    expect(clickGraph.nodes.some((n) => n.opType === "Tile" || n.opType === "Conv")).toBe(false);
    // every node's outputs are read by another node or are graph outputs
    for (const g of [refineGraph, clickGraph, prepareGraph]) {
      const read = new Set([...g.nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
      const dead = g.nodes.filter((n) => !n.outputs.some((o) => read.has(o)));
      expect(dead.map((n) => n.name)).toEqual([]);
    }
    expect(models.click.length + models.prepare.length).toBeLessThan(models.refine.length * 1.1);
  });

  it("runs the mask head channels-last and the cross-attention reassociated (see graph-rewrites)", () => {
    for (const bytes of [models.click, models.refine]) {
      const g = parseModel(bytes);
      // ConvTranspose -> Gemm, LayerNorm2d -> LayerNormalization, one Transpose to image order at the end
      const stockHead = g.nodes.filter(
        (n) => n.name.startsWith("/output_upscaling/") && n.opType !== "Constant",
      );
      expect(stockHead.map((n) => n.name)).toEqual([]);
      expect(g.nodes.some((n) => n.opType === "ConvTranspose")).toBe(false);
      // the second ConvTranspose is a Gemm; the first is folded into per-image and low-rank per-click
      // products (graph-head-fold): no image-sized 256 x 256 product per click
      expect(
        g.nodes.filter((n) => n.name.startsWith("/fast_head/") && n.opType === "Gemm").map((n) => n.name),
      ).toEqual(["/fast_head/up1"]);
      expect(g.nodes.filter((n) => n.name.startsWith("/head_fold/") && n.opType === "Gemm")).toHaveLength(2);
      expect(g.nodes.some((n) => n.name === "/head_fold/k0_w1")).toBe(false);
      expect(parseModel(models.prepare).nodes.some((n) => n.name === "/head_fold/k0_w1")).toBe(true);
      // no image-sized q/k/v/out projection is left: the first layer's are in prepare (click) or
      // reassociated too (refine, whose dense prompt changes the image side)
      const projections = g.nodes
        .filter((n) => /(image_to_token\/(q|out)|token_to_image\/(k|v))_proj\/MatMul$/.test(n.name))
        .map((n) => n.name);
      expect(projections).toEqual([]);
      // one prompt at a time: no Tile repeating the image over a prompt batch
      expect(g.nodes.some((n) => n.opType === "Tile")).toBe(false);
    }
    expect(
      parseModel(models.click).nodes.some((n) => n.name.includes("/layers.0/cross_attn_token_to_image/")),
    ).toBe(true);
    // refine = click + the dense prompt's corrections of the prepared tensors: the mask path's last 1x1
    // convolution is folded into them, nothing image-sized is projected per refinement click
    const refineGraph = parseModel(models.refine);
    expect(refineGraph.nodes.some((n) => n.name.startsWith("/mask_downscaling/mask_downscaling.6/"))).toBe(
      false,
    );
    expect(
      refineGraph.nodes.filter((n) => n.name.startsWith("/dense_delta/") && n.opType === "MatMul"),
    ).toHaveLength(models.preparedNames.length);
    // the image tokens' LayerNorms run as elementary ops (faster in ORT-web WASM), the tokens' stay
    for (const bytes of [models.click, models.refine]) {
      const norms = parseModel(bytes).nodes.filter((n) => n.opType === "LayerNormalization");
      expect(norms.some((n) => n.name.includes("norm4"))).toBe(false);
      expect(norms.some((n) => n.name.includes("norm1"))).toBe(true);
    }
  });

  it("is deterministic and refuses a model that is not SAM's decoder", () => {
    const again = deriveBrowserDecoder(stockBytes.slice());
    expect(Buffer.compare(Buffer.from(again.click), Buffer.from(models.click))).toBe(0);
    expect(Buffer.compare(Buffer.from(again.prepare), Buffer.from(models.prepare))).toBe(0);
    expect(() => deriveBrowserDecoder(Uint8Array.from([0x0b, 0x01]))).toThrow(BrowserDecoderDerivationError);
  });
});

describe("browser decoder = stock decoder on real embeddings", () => {
  const cases: [string, () => ImageEmbedding, SamPrompt][] = [
    ["one click (dogs)", () => dogs, { points: [{ x: 510, y: 350, label: 1 }] }],
    [
      "click + background click (dogs)",
      () => dogs,
      {
        points: [
          { x: 510, y: 350, label: 1 },
          { x: 660, y: 410, label: 0 },
        ],
      },
    ],
    ["box (truck)", () => truck, { points: [], box: { x0: 75, y0: 275, x1: 1715, y1: 855 } }],
    [
      "box + click (truck)",
      () => truck,
      { points: [{ x: 1300, y: 500, label: 1 }], box: { x0: 75, y0: 275, x1: 1715, y1: 855 } },
    ],
    ["click near a corner (truck)", () => truck, { points: [{ x: 5, y: 1190, label: 1 }] }],
  ];
  for (const [name, embedding, prompt] of cases) {
    it(`${name}: all four candidates' logits, the IoU head and the stock choice match`, async () => {
      const e = embedding();
      const [a, b] = [await decodeStock(e, prompt), await decodeBrowser(e, prompt)];
      expect(b.model).toBe("click");
      expectSame(a, b);
    });
  }

  it("refinement (mask_input = previous low-res logits) goes to the refine model and matches", async () => {
    const first: SamPrompt = { points: [{ x: 510, y: 350, label: 1 }] };
    const prev = await decodeStock(dogs, first);
    const prompt: SamPrompt = {
      points: [...first.points, { x: 660, y: 410, label: 0 }],
      maskInput: Float32Array.from(prev.chosen),
    };
    const [a, b] = [await decodeStock(dogs, prompt), await decodeBrowser(dogs, prompt)];
    expect(b.model).toBe("refine");
    expectSame(a, b);
    // and the refine model also serves prompts without a mask
    const f = browserDecoderFeeds(first, dogs.imageWidth, dogs.imageHeight);
    const plain = await refine.run({
      ...(await preparedFor(dogs)),
      point_coords: tensor(f.feeds.point_coords!),
      point_labels: tensor(f.feeds.point_labels!),
      mask_input: new ort.Tensor("float32", new Float32Array(65536), [1, 1, 256, 256]),
      has_mask_input: new ort.Tensor("float32", Float32Array.of(0), [1]),
    });
    const lowRes = floats(plain[BROWSER_DECODER_OUTPUTS.lowResMasks]);
    expectSame(prev, {
      lowRes,
      iou: floats(plain[BROWSER_DECODER_OUTPUTS.iouPredictions]),
      chosen: prev.chosen,
    });
  });

  const chains: [string, () => ImageEmbedding, SamPrompt, SamPrompt["points"]][] = [
    [
      "dogs, positive and negative clicks",
      () => dogs,
      { points: [{ x: 510, y: 350, label: 1 }] },
      [
        { x: 660, y: 410, label: 0 },
        { x: 420, y: 300, label: 1 },
        { x: 300, y: 500, label: 0 },
      ],
    ],
    [
      "truck, box then clicks",
      () => truck,
      { points: [], box: { x0: 75, y0: 275, x1: 1715, y1: 855 } },
      [
        { x: 1300, y: 500, label: 1 },
        { x: 900, y: 320, label: 0 },
      ],
    ],
  ];
  for (const [name, embedding, first, clicks] of chains) {
    it(`refinement chain (${name}): each decoder fed its own previous logits, every step matches`, async () => {
      const e = embedding();
      let [a, b] = [await decodeStock(e, first), await decodeBrowser(e, first)];
      expectSame(a, b);
      const points = [...first.points];
      for (const p of clicks) {
        points.push(p);
        const base = { ...first, points: [...points] };
        [a, b] = [
          await decodeStock(e, { ...base, maskInput: Float32Array.from(a.chosen) }),
          await decodeBrowser(e, { ...base, maskInput: Float32Array.from(b.chosen) }),
        ];
        expect(b.model).toBe("refine");
        expectSame(a, b);
      }
    });
  }
});
