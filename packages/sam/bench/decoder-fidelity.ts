/**
 * Do the browser decoder's masks equal the stock decoder's in practice? On the COCO-MVal dev images, with
 * prompts made from the ground-truth masks, every prompt goes through the stock decoder (its multi-mask
 * derivation, whose stock outputs are unchanged) and through `deriveBrowserDecoder`'s click / refine
 * models, in the same runtime. Per decode: IoU of the two thresholded masks at the original image size
 * (the stock `low_res_masks` vs the browser's `stockCandidateFor` pick, both upscaled as SAM does), and
 * whether the candidate choice is the same.
 *
 * Prompts per image: the most interior object point; the object's box; box + point; point + a negative
 * point (the background pixel farthest from the object within its box grown by a quarter); a refinement
 * chain from the point (each next click where the simulated user clicks on the stock mask's error, the
 * previous low-res logits fed back, each decoder getting its own previous output as a real session does).
 *
 * Bar for an approximation to ship: mean IoU >= 0.995, worst >= 0.98, same candidate in >= 99% of decodes.
 *
 *   npm run bench:decoder-fidelity [-- --runtime web|node --limit N --chain N --json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { browserDecoderFeeds, deriveBrowserDecoder, stockCandidateFor } from "../src/browser-decoder";
import { type GroundTruth, nextClick } from "../src/clicker";
import { squaredDistanceTransform } from "../src/clicker/edt";
import { deriveMultimaskDecoder, MULTIMASK_OUTPUTS, selectStockCandidate } from "../src/multimask";
import { decodeImage } from "../src/node/decode-image";
import { defaultModelFiles, readVerifiedModelFile } from "../src/node/model-files";
import { NodeSam } from "../src/node/session";
import { maskBbox } from "../src/postprocess";
import { decoderPointCount, type FeedTensor, promptToFeeds } from "../src/prompt-feeds";
import type { ImageEmbedding, PointPrompt, SamPrompt } from "../src/types";
import { upscaleLowResLogits } from "../src/upscale";
import { listDataset, loadGroundTruth } from "./dataset";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const dataset = path.resolve(root, "fixtures/coco-mval-dev");
const cacheDir = path.join(root, "node_modules/.cache/sas-fidelity");
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runtime = arg("runtime") === "node" ? "node" : "web";
const limit = Number(arg("limit") ?? Number.POSITIVE_INFINITY);
const chainLength = Number(arg("chain") ?? 3);
const json = args.includes("--json");
const THREADS = 2;
const LOW = 256 * 256;

type Session = ortNode.InferenceSession;
const ort = (runtime === "node" ? ortNode : ortWeb) as typeof ortNode;

/** Embeddings are cached per image (encoding is most of the run time). */
async function embeddingFor(sam: () => Promise<NodeSam>, name: string, imagePath: string) {
  const file = path.join(cacheDir, `${name}.bin`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const [w, h] = [buf.readUInt32LE(0), buf.readUInt32LE(4)];
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 8, buf.byteOffset + buf.length));
    return { data, dims: [1, 256, 64, 64], imageWidth: w, imageHeight: h } as ImageEmbedding;
  }
  const e = await (await sam()).encode(await decodeImage(imagePath));
  mkdirSync(cacheDir, { recursive: true });
  const head = Buffer.alloc(8);
  head.writeUInt32LE(e.imageWidth, 0);
  head.writeUInt32LE(e.imageHeight, 4);
  writeFileSync(
    file,
    Buffer.concat([head, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)]),
  );
  return e;
}

interface Decoded {
  /** The chosen candidate's 256x256 logits and its index. */
  lowRes: Float32Array;
  choice: number;
}

function thresholded(lowRes: Float32Array, e: ImageEmbedding): Uint8Array {
  const up = upscaleLowResLogits(lowRes, e.imageWidth, e.imageHeight);
  const m = new Uint8Array(up.length);
  for (let i = 0; i < up.length; i++) m[i] = up[i]! > 0 ? 1 : 0;
  return m;
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union === 0 ? 1 : inter / union;
}

/** The background pixel farthest from the object inside its bounding box grown by a quarter per side. */
function negativePoint(gt: GroundTruth): PointPrompt | null {
  const { width, height, data } = gt.object;
  const [x, y, w, h] = maskBbox(gt.object);
  const background = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) background[i] = data[i] || gt.ignore?.data[i] ? 0 : 1;
  const d = squaredDistanceTransform(background, width, height, { borderIsBackground: false });
  const x0 = Math.max(0, Math.floor(x - w / 4));
  const x1 = Math.min(width - 1, Math.ceil(x + w + w / 4));
  const y0 = Math.max(0, Math.floor(y - h / 4));
  const y1 = Math.min(height - 1, Math.ceil(y + h + h / 4));
  let best: PointPrompt | null = null;
  let bestD = 0;
  for (let yy = y0; yy <= y1; yy++)
    for (let xx = x0; xx <= x1; xx++) {
      const v = d[yy * width + xx]!;
      if (background[yy * width + xx] && Number.isFinite(v) && v > bestD) {
        bestD = v;
        best = { x: xx + 0.5, y: yy + 0.5, label: 0 };
      }
    }
  return best;
}

async function main() {
  const files = defaultModelFiles();
  const stockBytes = await readVerifiedModelFile(files.decoderPath, files.decoderSha256);
  const derived = deriveBrowserDecoder(stockBytes);
  if (runtime === "web") ortWeb.env.wasm.numThreads = THREADS;
  const opts =
    runtime === "node"
      ? { graphOptimizationLevel: "all" as const, intraOpNumThreads: THREADS }
      : { graphOptimizationLevel: "all" as const, executionProviders: ["wasm"] };
  const create = (m: Uint8Array) => ort.InferenceSession.create(m, opts) as Promise<Session>;
  const stock = await create(deriveMultimaskDecoder(stockBytes, { fullResMasks: false }));
  const prepare = await create(derived.prepare);
  const click = await create(derived.click);
  const refine = await create(derived.refine);
  const tensor = (f: FeedTensor) => new ort.Tensor("float32", f.data, f.dims);
  const embTensor = (e: ImageEmbedding) => new ort.Tensor("float32", e.data, [...e.dims]);

  let sam: NodeSam | undefined;
  const loadSam = async () => {
    sam ??= await NodeSam.load(files, { intraOpThreads: THREADS });
    return sam;
  };

  const decodeStock = async (e: ImageEmbedding, prompt: SamPrompt): Promise<Decoded> => {
    const f = promptToFeeds(prompt, e.imageWidth, e.imageHeight);
    const out = await stock.run({
      image_embeddings: embTensor(e),
      point_coords: tensor(f.point_coords),
      point_labels: tensor(f.point_labels),
      mask_input: tensor(f.mask_input),
      has_mask_input: tensor(f.has_mask_input),
      orig_im_size: tensor(f.orig_im_size),
    });
    const iouAll = out[MULTIMASK_OUTPUTS.iouPredictions]!.data as Float32Array;
    return {
      lowRes: Float32Array.from(out.low_res_masks!.data as Float32Array),
      choice: selectStockCandidate(iouAll, decoderPointCount(prompt)),
    };
  };
  const decodeBrowser = async (
    e: ImageEmbedding,
    prepared: Record<string, ortNode.Tensor>,
    prompt: SamPrompt,
  ): Promise<Decoded> => {
    const { model, feeds } = browserDecoderFeeds(prompt, e.imageWidth, e.imageHeight);
    const inputs: Record<string, ortNode.Tensor> = { ...prepared };
    for (const [k, v] of Object.entries(feeds)) inputs[k] = tensor(v);
    const out = await (model === "click" ? click : refine).run(inputs);
    const lowRes = out.all_low_res_masks!.data as Float32Array;
    const choice = stockCandidateFor(prompt, out.all_iou_predictions!.data as Float32Array);
    return { lowRes: lowRes.slice(choice * LOW, (choice + 1) * LOW), choice };
  };

  const kinds = ["point", "box", "box+point", "point+negative", "refinement"] as const;
  type Kind = (typeof kinds)[number];
  const results = new Map<Kind, { iou: number[]; same: number; worst: string }>(
    kinds.map((k) => [k, { iou: [], same: 0, worst: "" }]),
  );
  const record = (kind: Kind, name: string, e: ImageEmbedding, a: Decoded, b: Decoded) => {
    const r = results.get(kind)!;
    const v = iou(thresholded(a.lowRes, e), thresholded(b.lowRes, e));
    if (r.iou.length === 0 || v < Math.min(...r.iou)) r.worst = name;
    r.iou.push(v);
    if (a.choice === b.choice) r.same++;
  };

  const samples = (await listDataset(dataset)).slice(0, limit);
  const started = performance.now();
  for (const s of samples) {
    const e = await embeddingFor(loadSam, s.name, s.imagePath);
    const gt = await loadGroundTruth(s.gtPath);
    const prepared = (await prepare.run({ image_embeddings: embTensor(e) })) as Record<
      string,
      ortNode.Tensor
    >;
    const first = nextClick(gt, null);
    if (!first) continue;
    const [bx, by, bw, bh] = maskBbox(gt.object);
    const box = { x0: bx, y0: by, x1: bx + bw, y1: by + bh };
    const negative = negativePoint(gt);
    const prompts: [Kind, SamPrompt][] = [
      ["point", { points: [first] }],
      ["box", { points: [], box }],
      ["box+point", { points: [first], box }],
    ];
    if (negative) prompts.push(["point+negative", { points: [first, negative] }]);
    let stockFirst: Decoded | undefined;
    let browserFirst: Decoded | undefined;
    for (const [kind, prompt] of prompts) {
      const a = await decodeStock(e, prompt);
      const b = await decodeBrowser(e, prepared, prompt);
      record(kind, s.name, e, a, b);
      if (kind === "point") [stockFirst, browserFirst] = [a, b];
    }
    // refinement chain: clicks from the stock session's errors, each decoder fed its own previous logits
    const clicks: PointPrompt[] = [first];
    const taken = new Set<number>([Math.floor(first.y) * gt.object.width + Math.floor(first.x)]);
    let [a, b] = [stockFirst!, browserFirst!];
    for (let k = 0; k < chainLength; k++) {
      const mask = { width: e.imageWidth, height: e.imageHeight, data: thresholded(a.lowRes, e) };
      const next = nextClick(gt, mask, taken);
      if (!next) break;
      clicks.push(next);
      taken.add(Math.floor(next.y) * gt.object.width + Math.floor(next.x));
      const sa = await decodeStock(e, { points: [...clicks], maskInput: a.lowRes });
      const sb = await decodeBrowser(e, prepared, { points: [...clicks], maskInput: b.lowRes });
      record("refinement", s.name, e, sa, sb);
      [a, b] = [sa, sb];
    }
  }
  await sam?.release();

  const all = [...results.values()];
  const allIou = all.flatMap((r) => r.iou);
  const same = all.reduce((n, r) => n + r.same, 0);
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
  const line = (name: string, ious: number[], sameCount: number, worst: string) =>
    `| ${name.padEnd(15)} | ${String(ious.length).padStart(4)} | ${mean(ious).toFixed(5)} | ${Math.min(...ious).toFixed(5)} | ${((100 * sameCount) / Math.max(1, ious.length)).toFixed(1).padStart(6)}% | ${worst}`;
  console.log(
    `${samples.length} images, ${runtime === "web" ? "onnxruntime-web (WASM)" : "onnxruntime-node"}, ${((performance.now() - started) / 1000).toFixed(0)} s; IoU of thresholded masks at image size, browser vs stock`,
  );
  console.log(`| prompts         |    n | mean IoU | min IoU | same cand. | worst image`);
  console.log(`| --------------- | ---: | -------: | ------: | ---------: | -----------`);
  for (const [k, r] of results) if (r.iou.length) console.log(line(k, r.iou, r.same, r.worst));
  console.log(line("all", allIou, same, ""));
  const pass = mean(allIou) >= 0.995 && Math.min(...allIou) >= 0.98 && same >= 0.99 * allIou.length;
  console.log(`bar (mean >= 0.995, worst >= 0.98, same candidate >= 99%): ${pass ? "met" : "NOT met"}`);
  if (json) {
    console.log(
      JSON.stringify({
        runtime,
        images: samples.length,
        kinds: Object.fromEntries(
          [...results].map(([k, r]) => [
            k,
            { n: r.iou.length, mean: mean(r.iou), min: Math.min(...r.iou), same: r.same },
          ]),
        ),
        all: { n: allIou.length, mean: mean(allIou), min: Math.min(...allIou), same },
        pass,
      }),
    );
  }
  process.exit(pass ? 0 : 1);
}

await main();
