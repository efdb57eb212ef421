/**
 * Per-click decode time of the stock SAM decoder vs the derived browser decoder (see
 * `deriveBrowserDecoder`), in onnxruntime-web (WASM SIMD, 2 threads, as the annotation page runs it) and
 * onnxruntime-node (2 intra-op threads), on the same prompts over the shared fixture images and a few
 * COCO images. Each run is timed from building the input tensors to having the outputs in JS. Prompts
 * without a mask input (click, box, click + box) go to the `click` model, refinements to `refine`; both
 * are reported apart. `--baseline` also times a previous derivation's files (e.g. the cached ones in
 * node_modules/.cache/sam-studio, `{part}` standing for prepare / click / refine) on the same prompts,
 * interleaved with the current one, so before/after compare within one run on a busy machine.
 *
 *   npm run bench:decoder-wasm [-- --coco N --reps N --json --baseline 'DIR/decoder-browser-vN-{part}-SHA.onnx']
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import { browserDecoderFeeds, deriveBrowserDecoder, stockCandidateFor } from "../src/browser-decoder";
import { decodeImage } from "../src/node/decode-image";
import { defaultModelFiles, readVerifiedModelFile } from "../src/node/model-files";
import { NodeSam } from "../src/node/session";
import { type FeedTensor, promptToFeeds } from "../src/prompt-feeds";
import type { ImageEmbedding, SamPrompt } from "../src/types";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "../../../fixtures");
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const json = args.includes("--json");
const coco = flag("coco", 4);
const reps = flag("reps", 3);
const baselineIndex = args.indexOf("--baseline");
const baselinePattern = baselineIndex >= 0 ? args[baselineIndex + 1] : undefined;
const THREADS = 2;

type Ort = typeof ortNode | typeof ortWeb;
type Session = ortNode.InferenceSession | ortWeb.InferenceSession;
type Outputs = Record<string, { data: unknown }>;

function listImages(): string[] {
  const dir = (d: string) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".jpg"))
      .sort()
      .map((f) => path.join(d, f));
  return [
    ...dir(path.join(fixtures, "images")),
    ...dir(path.join(fixtures, "coco-mval-dev/img")).slice(0, coco),
  ];
}

/** The same four prompt kinds on every image: a click, a box, click + box, and a refinement click. */
function prompts(w: number, h: number): { name: string; prompt: SamPrompt; refinesFirst?: boolean }[] {
  const click = { x: 0.5 * w, y: 0.55 * h, label: 1 as const };
  const box = { x0: 0.2 * w, y0: 0.2 * h, x1: 0.8 * w, y1: 0.9 * h };
  return [
    { name: "click", prompt: { points: [click] } },
    { name: "box", prompt: { points: [], box } },
    { name: "click+box", prompt: { points: [click], box } },
    {
      name: "refine",
      prompt: { points: [click, { x: 0.15 * w, y: 0.15 * h, label: 0 }] },
      refinesFirst: true,
    },
  ];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

interface Derived {
  prepare: Session;
  click: Session;
  refine: Session;
  refineReadsEmbedding: boolean;
}

class Runner {
  constructor(
    private readonly ort: Ort,
    readonly stock: Session,
    readonly derived: Derived[],
  ) {}

  static async create(ort: Ort, models: Uint8Array[]): Promise<Runner> {
    const opts =
      ort === ortNode
        ? {
            graphOptimizationLevel: "all" as const,
            intraOpNumThreads: THREADS,
            executionMode: "sequential" as const,
          }
        : { graphOptimizationLevel: "all" as const, executionProviders: ["wasm"] };
    const sessions: Session[] = [];
    for (const m of models)
      sessions.push(await (ort.InferenceSession as typeof ortNode.InferenceSession).create(m, opts));
    const [s, ...rest] = sessions as [Session, ...Session[]];
    const derived: Derived[] = [];
    for (let i = 0; i + 2 < rest.length; i += 3)
      derived.push({
        prepare: rest[i]!,
        click: rest[i + 1]!,
        refine: rest[i + 2]!,
        refineReadsEmbedding: rest[i + 2]!.inputNames.includes("image_embeddings"),
      });
    return new Runner(ort, s, derived);
  }

  tensor(f: FeedTensor) {
    return new this.ort.Tensor("float32", f.data, f.dims);
  }

  async run(session: Session, feeds: Record<string, unknown>): Promise<Outputs> {
    return (await (session as ortNode.InferenceSession).run(
      feeds as ortNode.InferenceSession.FeedsType,
    )) as unknown as Outputs;
  }

  async stockDecode(e: ImageEmbedding, prompt: SamPrompt): Promise<Float32Array> {
    const f = promptToFeeds(prompt, e.imageWidth, e.imageHeight);
    const out = await this.run(this.stock, {
      image_embeddings: new this.ort.Tensor("float32", e.data, [...e.dims]),
      point_coords: this.tensor(f.point_coords),
      point_labels: this.tensor(f.point_labels),
      mask_input: this.tensor(f.mask_input),
      has_mask_input: this.tensor(f.has_mask_input),
      orig_im_size: this.tensor(f.orig_im_size),
    });
    return out.low_res_masks!.data as Float32Array;
  }

  async prepared(d: Derived, e: ImageEmbedding): Promise<Outputs> {
    return this.run(d.prepare, { image_embeddings: new this.ort.Tensor("float32", e.data, [...e.dims]) });
  }

  async derivedDecode(
    d: Derived,
    e: ImageEmbedding,
    prepared: Outputs,
    prompt: SamPrompt,
  ): Promise<Float32Array> {
    // a baseline older than v5 has a refine model that reads the embedding instead of the prepared tensors
    if (d.refineReadsEmbedding && prompt.maskInput)
      prepared = { image_embeddings: new this.ort.Tensor("float32", e.data, [...e.dims]) };
    const { model, feeds } = browserDecoderFeeds(prompt, e.imageWidth, e.imageHeight);
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = this.tensor(v);
    const out = await this.run(model === "click" ? d.click : d.refine, { ...inputs, ...prepared });
    const lowRes = out.all_low_res_masks!.data as Float32Array;
    const k = stockCandidateFor(prompt, out.all_iou_predictions!.data as Float32Array);
    return lowRes.subarray(k * 65536, (k + 1) * 65536);
  }
}

interface Split {
  click: number[];
  refine: number[];
}

interface Times {
  stock: Split;
  /** Per derivation: the current one, then the baseline if any. */
  derived: Split[];
  prepare: number[][];
  maxDiff: number[];
}

async function time<T>(f: () => Promise<T>, into: number[]): Promise<T> {
  const t = performance.now();
  const r = await f();
  into.push(performance.now() - t);
  return r;
}

async function benchRuntime(runner: Runner, embeddings: ImageEmbedding[]): Promise<Times> {
  const split = (): Split => ({ click: [], refine: [] });
  const times: Times = {
    stock: split(),
    derived: runner.derived.map(split),
    prepare: runner.derived.map(() => []),
    maxDiff: runner.derived.map(() => 0),
  };
  // warm-up: every session once (first runs pay for kernel setup)
  const first = prompts(100, 100)[0]!.prompt;
  const firstRefine: SamPrompt = { ...first, maskInput: new Float32Array(65536) };
  for (const p of [first, firstRefine]) await runner.stockDecode(embeddings[0]!, p);
  for (const d of runner.derived) {
    const warm = await runner.prepared(d, embeddings[0]!);
    for (const p of [first, firstRefine]) await runner.derivedDecode(d, embeddings[0]!, warm, p);
  }
  for (const e of embeddings) {
    const prepared: Outputs[] = [];
    for (const [k, d] of runner.derived.entries())
      prepared.push(await time(() => runner.prepared(d, e), times.prepare[k]!));
    let firstLowRes: Float32Array | undefined;
    for (const { prompt: base, refinesFirst } of prompts(e.imageWidth, e.imageHeight)) {
      const prompt: SamPrompt = refinesFirst && firstLowRes ? { ...base, maskInput: firstLowRes } : base;
      const kind = prompt.maskInput ? "refine" : "click";
      for (let r = 0; r < reps; r++) {
        const a = await time(() => runner.stockDecode(e, prompt), times.stock[kind]);
        for (const [k, d] of runner.derived.entries()) {
          const b = await time(
            () => runner.derivedDecode(d, e, prepared[k]!, prompt),
            times.derived[k]![kind],
          );
          for (let i = 0; i < a.length; i++)
            times.maxDiff[k] = Math.max(times.maxDiff[k]!, Math.abs(a[i]! - b[i]!));
        }
        if (!firstLowRes) firstLowRes = Float32Array.from(a);
      }
    }
  }
  return times;
}

async function main() {
  const files = defaultModelFiles();
  const stockBytes = await readVerifiedModelFile(files.decoderPath, files.decoderSha256);
  const d = deriveBrowserDecoder(stockBytes);
  const models = [stockBytes, d.prepare, d.click, d.refine];
  const names = ["derived"];
  if (baselinePattern) {
    for (const part of ["prepare", "click", "refine"])
      models.push(new Uint8Array(readFileSync(baselinePattern.replace("{part}", part))));
    names.push(`baseline ${path.basename(baselinePattern).replace(/-\{part\}.*$/, "")}`);
  }

  const images = listImages();
  const sam = await NodeSam.load(files, { intraOpThreads: THREADS });
  const embeddings: ImageEmbedding[] = [];
  for (const img of images) embeddings.push(await sam.encode(await decodeImage(img)));
  await sam.release();

  ortWeb.env.wasm.numThreads = THREADS;
  ortWeb.env.wasm.simd = true;
  const web = await benchRuntime(await Runner.create(ortWeb, models), embeddings);
  const native = await benchRuntime(await Runner.create(ortNode, models), embeddings);

  const f1 = (v: number) => v.toFixed(1).padStart(8);
  const row = (name: string, w: number[], nat: number[]) =>
    `| ${name.padEnd(44)} | ${String(w.length).padStart(3)} | ${f1(Math.min(...w))} | ${f1(pct(w, 50))} | ${f1(pct(w, 95))} | ${f1(Math.min(...nat))} | ${f1(pct(nat, 50))} | ${f1(pct(nat, 95))} |`;
  console.log(
    `${images.length} images x 4 prompts (click, box, click+box -> click model; refinement -> refine model) x ${reps}; ms`,
  );
  console.log(
    `| ${"decoder".padEnd(44)} |   n | wasm min | wasm p50 | wasm p95 | node min | node p50 | node p95 |`,
  );
  console.log(
    `| ${"-".repeat(44)} | --: | -------: | -------: | -------: | -------: | -------: | -------: |`,
  );
  console.log(row("stock sam.onnx, prompts without mask", web.stock.click, native.stock.click));
  console.log(row("stock sam.onnx, refinements", web.stock.refine, native.stock.refine));
  for (const [k, name] of names.entries()) {
    console.log(row(`${name}: click`, web.derived[k]!.click, native.derived[k]!.click));
    console.log(row(`${name}: refine`, web.derived[k]!.refine, native.derived[k]!.refine));
    console.log(row(`${name}: prepare (once per image)`, web.prepare[k]!, native.prepare[k]!));
  }
  for (const [k, name] of names.entries())
    console.log(
      `${name}: max |stock low_res_masks - derived pick|: wasm ${web.maxDiff[k]!.toExponential(2)}, node ${native.maxDiff[k]!.toExponential(2)}`,
    );
  if (json) {
    const s = (xs: number[]) => ({ min: Math.min(...xs), p50: pct(xs, 50), p95: pct(xs, 95) });
    const runtime = (t: Times) => ({
      stock: { click: s(t.stock.click), refine: s(t.stock.refine) },
      ...Object.fromEntries(
        names.map((name, k) => [
          name,
          { click: s(t.derived[k]!.click), refine: s(t.derived[k]!.refine), prepare: s(t.prepare[k]!) },
        ]),
      ),
    });
    console.log(
      JSON.stringify({
        images: images.length,
        reps,
        wasm: runtime(web),
        native: runtime(native),
        maxDiff: Math.max(...web.maxDiff, ...native.maxDiff),
      }),
    );
  }
  process.exit(0);
}

await main();
