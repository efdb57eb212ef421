/**
 * `npm run bench:noc -- [--dataset DIR] [--max-clicks 20] [--limit N] [--json]`
 *
 * The standard interactive-segmentation benchmark (NoC@85/90, mIoU by click) with the real encoder
 * and decoder on onnxruntime-node. The protocol follows SAM's interactive evaluation: the first click
 * asks for the three ambiguity candidates and keeps the one with the highest predicted IoU; every
 * later click sends all clicks so far plus the previous low-res logits as mask_input and takes the
 * single-mask output.
 */
import { parseArgs } from "node:util";
import type { BinaryMask } from "@sas/sa1b";
import { DEFAULT_MAX_CLICKS, type NocSummary, simulateSession, summarizeSessions } from "../src/clicker";
import { decodeImage, NodeSam } from "../src/node";
import type { PointPrompt } from "../src/types";
import { DatasetError, DEV_DATASET, listDataset, loadGroundTruth } from "./dataset";

interface Options {
  dataset: string;
  maxClicks: number;
  limit: number | undefined;
  json: boolean;
  verbose: boolean;
}

const USAGE =
  "usage: npm run bench:noc -- [--dataset DIR] [--max-clicks 20] [--limit N] [--json] [--verbose]";

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  }
  return n;
}

class UsageError extends Error {
  override name = "UsageError";
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: "string" },
      "max-clicks": { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
    strict: true,
  });
  return {
    dataset: values.dataset ?? DEV_DATASET,
    maxClicks: positiveInt(values["max-clicks"], "--max-clicks") ?? DEFAULT_MAX_CLICKS,
    limit: positiveInt(values.limit, "--limit"),
    json: values.json,
    verbose: values.verbose,
  };
}

interface ImageResult {
  name: string;
  ious: number[];
  encodeMs: number;
  decodeMs: number[];
  totalMs: number;
}

async function runImage(
  sam: NodeSam,
  sample: { name: string; imagePath: string; gtPath: string },
  maxClicks: number,
): Promise<ImageResult> {
  const start = performance.now();
  const [image, gt] = await Promise.all([decodeImage(sample.imagePath), loadGroundTruth(sample.gtPath)]);
  if (image.width !== gt.object.width || image.height !== gt.object.height) {
    throw new DatasetError(
      `${sample.name}: image is ${image.width}x${image.height} (after EXIF orientation) but its ground truth is ${gt.object.width}x${gt.object.height}`,
    );
  }
  if (!gt.object.data.includes(1)) {
    throw new DatasetError(`${sample.name}: ground truth has no object pixels`);
  }

  const encodeStart = performance.now();
  const embedding = await sam.encode(image);
  const encodeMs = performance.now() - encodeStart;

  const decodeMs: number[] = [];
  let previousLogits: Float32Array | undefined;
  const predict = async (clicks: readonly PointPrompt[]): Promise<BinaryMask> => {
    const first = clicks.length === 1;
    const result = await sam.decode(
      embedding,
      { points: [...clicks], ...(first || !previousLogits ? {} : { maskInput: previousLogits }) },
      { multimask: first },
    );
    decodeMs.push(result.decodeMs);
    // A single click is ambiguous (part, object, group): SAM's eval keeps the candidate the model
    // itself rates best. Later clicks disambiguate, so the single-mask token is used.
    const chosen = first
      ? result.candidates.reduce((a, b) => (b.predictedIou > a.predictedIou ? b : a))
      : result.best;
    previousLogits = chosen.lowResLogits;
    return chosen.mask;
  };

  const session = await simulateSession(gt, predict, { maxClicks });
  return { name: sample.name, ious: session.ious, encodeMs, decodeMs, totalMs: performance.now() - start };
}

interface BenchReport {
  dataset: string;
  images: number;
  maxClicks: number;
  noc85: number;
  noc90: number;
  /** Images that never reached the threshold within maxClicks. */
  failed85: number;
  failed90: number;
  miou: Record<number, number>;
  secondsPerImage: number;
  encodeSecondsPerImage: number;
  decodeMsPerClick: number;
  clicks: number;
}

function report(options: Options, results: ImageResult[], summary: NocSummary): BenchReport {
  const allDecodes = results.flatMap((r) => r.decodeMs);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    dataset: options.dataset,
    images: summary.images,
    maxClicks: summary.maxClicks,
    noc85: summary.noc[85]!,
    noc90: summary.noc[90]!,
    failed85: summary.failed[85]!,
    failed90: summary.failed[90]!,
    miou: summary.miou,
    secondsPerImage: sum(results.map((r) => r.totalMs)) / results.length / 1000,
    encodeSecondsPerImage: sum(results.map((r) => r.encodeMs)) / results.length / 1000,
    decodeMsPerClick: allDecodes.length > 0 ? sum(allDecodes) / allDecodes.length : Number.NaN,
    clicks: allDecodes.length,
  };
}

function printTable(r: BenchReport): void {
  const shownClicks = [1, 3, 5, 10, 20].filter((k) => k <= r.maxClicks);
  const rows: [string, string][] = [
    ["dataset", r.dataset],
    ["images", String(r.images)],
    ["max clicks", String(r.maxClicks)],
    ["NoC@85", `${r.noc85.toFixed(2)}  (${r.failed85} never reached)`],
    ["NoC@90", `${r.noc90.toFixed(2)}  (${r.failed90} never reached)`],
    ...shownClicks.map((k): [string, string] => [`mIoU@${k}`, r.miou[k]!.toFixed(4)]),
    ["s / image (total)", r.secondsPerImage.toFixed(2)],
    ["encode s / image", r.encodeSecondsPerImage.toFixed(2)],
    ["decode ms / click (native)", `${r.decodeMsPerClick.toFixed(1)}  (${r.clicks} clicks)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const samples = (await listDataset(options.dataset)).slice(0, options.limit);
  const sam = await NodeSam.load();
  const results: ImageResult[] = [];
  try {
    for (const [i, sample] of samples.entries()) {
      const result = await runImage(sam, sample, options.maxClicks);
      results.push(result);
      // Progress goes to stderr so `--json` output stays one clean object on stdout's last line.
      if (options.verbose) {
        const ious = result.ious.map((v) => v.toFixed(3)).join(" ");
        console.error(`[${i + 1}/${samples.length}] ${sample.name}: ${ious}`);
      } else {
        const iou1 = result.ious[0] ?? 0;
        console.error(
          `[${i + 1}/${samples.length}] ${sample.name}: IoU@1 ${iou1.toFixed(3)}, ${(result.totalMs / 1000).toFixed(1)} s`,
        );
      }
    }
  } finally {
    await sam.release();
  }
  const summary = summarizeSessions(
    results.map((r) => r.ious),
    { maxClicks: options.maxClicks },
  );
  const r = report(options, results, summary);
  printTable(r);
  if (options.json) console.log(JSON.stringify(r));
}

main().catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof DatasetError || (e instanceof TypeError && "code" in e)) {
    console.error(`bench:noc: ${e.message}\n${USAGE}`);
  } else {
    console.error(e);
  }
  process.exitCode = 1;
});
