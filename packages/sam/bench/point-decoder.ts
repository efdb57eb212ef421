/**
 * Per-point decode cost of the automatic mask generator's decoders on onnxruntime-node, on one fixture
 * image's embedding: single-point prompts (+ SAM's padding point), every decoder asked for what the
 * generator needs. Rows:
 *   - stock single, full-res: `NodeSam.decode` one point at a time (stock outputs: the chosen mask at the
 *     original size), what a plain one-point-per-decode pass pays;
 *   - stock multimask, low-res: the multi-mask derivation of the stock decoder (`deriveMultimaskDecoder`,
 *     no full-res outputs) with a batch of prompts per run: the image embedding is tiled per prompt;
 *   - browser click, batch 1: the browser decoder's `prepare` once, then its `click` graph per point;
 *   - BatchPointDecoder at several batch sizes (`prepare` once per image, shown on its own row).
 * All configurations run interleaved, round after round, so a busy machine slows them alike; the table
 * gives each one's median over the rounds (the first, warm-up round is dropped), in wall time and in this
 * process's CPU time (all threads; less sensitive to other processes on the machine, but it counts ORT's
 * spin-waiting too). The fidelity line compares BatchPointDecoder with the stock decoder on the same
 * points (all four candidates).
 *
 *   npm run bench:point-decoder [-- --image dogs.jpg --points 64 --rounds 3 --threads 2 --batches 1,8,16,32,64 --json]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { deriveBrowserDecoder } from "../src/browser-decoder";
import { deriveMultimaskDecoder, MULTIMASK_OUTPUTS } from "../src/multimask";
import { decodeImage } from "../src/node/decode-image";
import { defaultModelFiles, readVerifiedModelFile } from "../src/node/model-files";
import { BatchPointDecoder } from "../src/node/point-decoder";
import { NodeSam } from "../src/node/session";
import { promptsToBatchFeeds, promptToFeeds } from "../src/prompt-feeds";
import type { ImageEmbedding, SamPrompt } from "../src/types";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const json = args.includes("--json");
const imageName = option("image", "dogs.jpg");
const pointsPerRun = Number(option("points", "64"));
const rounds = Number(option("rounds", "3"));
const threads = Number(option("threads", "2"));
const batches = option("batches", "1,8,16,32,64").split(",").map(Number);
/** Points for the slow one-at-a-time rows (they cost the same per point at any count). */
const singlePoints = Math.min(pointsPerRun, 16);
const STOCK_BATCH = 64;

/** `count` points spread over the image (a jittered grid, the same every run). */
function gridPoints(e: ImageEmbedding, count: number): Float32Array {
  const side = Math.ceil(Math.sqrt(count));
  const pts = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const gx = (i % side) + 0.5 + 0.3 * Math.sin(7 * i);
    const gy = Math.floor(i / side) + 0.5 + 0.3 * Math.cos(5 * i);
    pts[2 * i] = (gx / side) * e.imageWidth;
    pts[2 * i + 1] = (gy / side) * e.imageHeight;
  }
  return pts;
}

const promptsOf = (pts: Float32Array): SamPrompt[] =>
  Array.from({ length: pts.length / 2 }, (_, i) => ({
    points: [{ x: pts[2 * i]!, y: pts[2 * i + 1]!, label: 1 as const }],
  }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const files = defaultModelFiles();
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "bench-point-decoder-"));
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
  };
  const stockBytes = await readVerifiedModelFile(files.decoderPath, files.decoderSha256);
  const browser = deriveBrowserDecoder(stockBytes);
  const sam = await NodeSam.load(files, { intraOpThreads: threads });
  const session = (m: Uint8Array) => ort.InferenceSession.create(m, sessionOptions);
  const multimask = await session(deriveMultimaskDecoder(stockBytes, { fullResMasks: false }));
  const prepare = await session(browser.prepare);
  const click = await session(browser.click);
  const decoders = new Map<number, BatchPointDecoder>();
  for (const b of batches)
    decoders.set(b, await BatchPointDecoder.load(files, { cacheDir, intraOpThreads: threads, batchSize: b }));
  const embedding = await sam.encode(
    await decodeImage(path.resolve(here, "../../../fixtures/images", imageName)),
  );
  const { imageWidth: w, imageHeight: h } = embedding;
  const embeddingTensor = new ort.Tensor("float32", embedding.data, [...embedding.dims]);

  const stockMultimask = async (prompts: SamPrompt[]) => {
    const f = promptsToBatchFeeds(prompts, w, h);
    const t = (x: { data: Float32Array; dims: number[] }) => new ort.Tensor("float32", x.data, x.dims);
    const out = await multimask.run(
      {
        image_embeddings: embeddingTensor,
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
  };
  let browserPrepared: ort.InferenceSession.OnnxValueMapType | undefined;
  const prepareMs: number[] = [];

  interface Config {
    name: string;
    batch: number;
    points: number;
    run: () => Promise<void>;
  }
  const configs: Config[] = [
    {
      name: "stock single, full-res",
      batch: 1,
      points: singlePoints,
      run: async () => {
        for (const p of promptsOf(gridPoints(embedding, singlePoints))) await sam.decode(embedding, p);
      },
    },
    {
      name: "stock multimask, low-res",
      batch: 1,
      points: singlePoints,
      run: async () => {
        for (const p of promptsOf(gridPoints(embedding, singlePoints))) await stockMultimask([p]);
      },
    },
    {
      name: "stock multimask, low-res",
      batch: STOCK_BATCH,
      points: STOCK_BATCH,
      run: async () => {
        await stockMultimask(promptsOf(gridPoints(embedding, STOCK_BATCH)));
      },
    },
    {
      name: "browser click graph",
      batch: 1,
      points: singlePoints,
      run: async () => {
        browserPrepared ??= await prepare.run({ image_embeddings: embeddingTensor });
        for (const p of promptsOf(gridPoints(embedding, singlePoints))) {
          const f = promptToFeeds(p, w, h);
          await click.run({
            ...browserPrepared,
            point_coords: new ort.Tensor("float32", f.point_coords.data, f.point_coords.dims),
            point_labels: new ort.Tensor("float32", f.point_labels.data, f.point_labels.dims),
          });
        }
      },
    },
    ...batches.map(
      (b): Config => ({
        name: "BatchPointDecoder",
        batch: b,
        points: b === 1 ? singlePoints : Math.max(b, pointsPerRun),
        run: async () => {
          const n = b === 1 ? singlePoints : Math.max(b, pointsPerRun);
          await decoders.get(b)!.decodePoints(embedding, gridPoints(embedding, n));
        },
      }),
    ),
    {
      name: "BatchPointDecoder prepare (per image)",
      batch: 0,
      points: 1,
      run: async () => {
        // a copy of the embedding is a new image to the decoder: prepare + one point, minus one point
        const d = decoders.get(batches[0]!)!;
        const one = gridPoints(embedding, 1);
        const start = performance.now();
        await d.decodePoints({ ...embedding, data: embedding.data.slice() }, one);
        const withPrepare = performance.now() - start;
        const again = performance.now();
        await d.decodePoints(embedding, one);
        prepareMs.push(withPrepare - (performance.now() - again));
      },
    },
  ];
  const samples = configs.map(() => [] as number[]);
  const cpuSamples = configs.map(() => [] as number[]);
  for (let round = 0; round <= rounds; round++) {
    for (const [i, c] of configs.entries()) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await c.run();
      const ms = (performance.now() - start) / c.points;
      const used = process.cpuUsage(cpu);
      if (round > 0 && c.batch > 0) {
        samples[i]!.push(ms);
        cpuSamples[i]!.push((used.user + used.system) / 1000 / c.points);
      }
    }
    if (!json) process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  // fidelity on the benchmark's points: all four candidates against the stock decoder, point by point
  const fidelityPts = gridPoints(embedding, 16);
  const ours = await decoders.get(batches[batches.length - 1]!)!.decodePoints(embedding, fidelityPts);
  let maxLogitDiff = 0;
  let maxIouDiff = 0;
  const perPoint = 4 * 256 * 256;
  for (const [i, p] of promptsOf(fidelityPts).entries()) {
    const ref = await stockMultimask([p]);
    for (let k = 0; k < perPoint; k++)
      maxLogitDiff = Math.max(
        maxLogitDiff,
        Math.abs(ours.lowResLogits[i * perPoint + k]! - ref.lowResLogits[k]!),
      );
    for (let k = 0; k < 4; k++)
      maxIouDiff = Math.max(maxIouDiff, Math.abs(ours.iou[4 * i + k]! - ref.iou[k]!));
  }

  const rows = configs
    .map((c, i) => ({
      name: c.name,
      batch: c.batch,
      msPerPoint: c.batch > 0 ? median(samples[i]!) : median(prepareMs),
      cpuMsPerPoint: c.batch > 0 ? median(cpuSamples[i]!) : Number.NaN,
    }))
    .map((r) => ({
      ...r,
      msPerPoint: Math.round(r.msPerPoint * 100) / 100,
      cpuMsPerPoint: Number.isNaN(r.cpuMsPerPoint) ? null : Math.round(r.cpuMsPerPoint * 100) / 100,
    }));
  const result = {
    image: imageName,
    imageSize: [w, h],
    threads,
    rounds,
    rows,
    fidelity: { points: fidelityPts.length / 2, maxLogitDiff, maxIouDiff },
  };
  if (json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `${imageName} (${w}x${h}), ${threads} intra-op threads, median of ${rounds} interleaved rounds`,
    );
    console.log(
      `${"decoder".padEnd(40)}${"batch".padStart(6)}${"ms/point".padStart(10)}${"cpu ms/point".padStart(14)}`,
    );
    for (const r of rows)
      console.log(
        `${r.name.padEnd(40)}${(r.batch > 0 ? String(r.batch) : "-").padStart(6)}${r.msPerPoint.toFixed(2).padStart(10)}${(r.cpuMsPerPoint?.toFixed(2) ?? "-").padStart(14)}`,
      );
    console.log(
      `fidelity vs stock (${result.fidelity.points} points, 4 candidates): max |logit diff| ${maxLogitDiff.toExponential(2)}, max |IoU diff| ${maxIouDiff.toExponential(2)}`,
    );
  }
  await Promise.all([sam.release(), multimask.release(), prepare.release(), click.release()]);
  for (const d of decoders.values()) await d.release();
  await rm(cacheDir, { recursive: true, force: true });
}

await main();
