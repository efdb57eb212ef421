/**
 * `npm run bench:amg -- [--dataset DIR] [--limit N] [--json] [--plain] [--decoder stock|batch] [--points-per-side 32] [--verbose]`
 *
 * The fully automatic pass (SAM's automatic mask generator with this product's defaults: 32x32 points, one
 * crop layer of 2x2 crops at 16x16) on an interactive-segmentation dataset (img/ + gt/, gt 255 object,
 * 0 background, 128 ignore). Reports seconds per image (encoder runs included), masks per image, and the
 * recall of the ground-truth masks at IoU 0.5 and 0.75: a gt mask counts as found when its best-matching
 * proposal reaches the IoU, with ignored pixels left out of both sides.
 *
 * `--plain` also runs, on the same images in the same process (interleaved image by image, so load on the
 * machine affects both alike), the baseline: 32x32, no crops, one point per decode with the stock decoder's
 * full-resolution candidates and the same filters applied at full resolution (`generatePlainAutoMasks`).
 * `--decoder batch` decodes with `BatchPointDecoder` (./node/point-decoder) instead of NodeSam's derived
 * multi-mask decoder. `--points-per-side` changes the grid of both rows (crop layers keep half of it), `--crop-layers` the
 * number of crop layers of the default row.
 * The thresholds are the pass's defaults for the bundled model: those calibrated for it (see
 * ../src/node/calibration), else SAM's 0.88 / 0.95; `--sam-thresholds` runs SAM's, and `--pred-iou` /
 * `--stability` set either one.
 *
 * `--sweep` decodes each image once at the loosest thresholds of the lists `--sweep-pred-iou` and
 * `--sweep-stability` and prints recall and masks per image for every pair (see ./amg-sweep), plus the
 * oracle recall (best of every decoded candidate before NMS), to calibrate the thresholds for a model.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decodeRle } from "@sas/sa1b";
import {
  type AutoMaskParams,
  type AutoMaskStats,
  autoMaskParamsSchema,
  DEFAULT_AUTO_MASK_PARAMS,
  FILTER_STAGES,
  type PointDecoder,
} from "../src/amg";
import { type GroundTruth, objectIoU } from "../src/clicker";
import {
  type AutoMaskResult,
  calibrationFor,
  decodeCropProposals,
  decodeImage,
  defaultModelFiles,
  generateAutoMasks,
  generatePlainAutoMasks,
  NodeSam,
  type PassThresholds,
  stockPointDecoder,
} from "../src/node";
import { type SweepImageResult, sweepGrid, sweepImage } from "./amg-sweep";
import { DatasetError, type DatasetSample, DEV_DATASET, listDataset, loadGroundTruth } from "./dataset";

const USAGE =
  "usage: npm run bench:amg -- [--dataset DIR] [--limit N] [--json] [--plain] [--decoder stock|batch] [--points-per-side 32] [--crop-layers 1] [--pred-iou X] [--stability X] [--sam-thresholds] [--sweep [--sweep-pred-iou 0.88,0.8] [--sweep-stability 0.95,0.9]] [--verbose]";

const DEFAULT_SWEEP_PRED_IOU = [0.88, 0.86, 0.84, 0.82, 0.8, 0.75, 0.7];
const DEFAULT_SWEEP_STABILITY = [0.95, 0.92, 0.9, 0.88, 0.85, 0.8, 0.75, 0.7];

class UsageError extends Error {
  override name = "UsageError";
}

type DecoderKind = "stock" | "batch";

interface Options {
  dataset: string;
  limit: number | undefined;
  json: boolean;
  plain: boolean;
  decoder: DecoderKind;
  pointsPerSide: number;
  cropLayers: number;
  predIou: number;
  stability: number;
  /** Where the thresholds came from, for the table. */
  thresholdsFrom: string;
  sweep: { predIous: number[]; stabilities: number[] } | undefined;
  verbose: boolean;
}

function threshold(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value >= 0 && value <= 1)) throw new UsageError(`--${name} must be a number in [0, 1], got "${raw}"`);
  return value;
}

function thresholdList(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const values = raw.split(",").map((v) => threshold(name, v.trim(), Number.NaN));
  if (values.some((v) => v === 0))
    throw new UsageError(`--${name}: 0 disables a filter; sweep values must be > 0`);
  return values;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean", default: false },
      plain: { type: "boolean", default: false },
      decoder: { type: "string", default: "stock" },
      "points-per-side": { type: "string" },
      "crop-layers": { type: "string" },
      "pred-iou": { type: "string" },
      stability: { type: "string" },
      "sam-thresholds": { type: "boolean", default: false },
      sweep: { type: "boolean", default: false },
      "sweep-pred-iou": { type: "string" },
      "sweep-stability": { type: "string" },
      verbose: { type: "boolean", default: false },
    },
    strict: true,
  });
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
  }
  // The bundled model's calibrated pair, as a pass on it would use (unless --sam-thresholds).
  const calibration = calibrationFor(defaultModelFiles());
  const defaults: PassThresholds =
    calibration && !values["sam-thresholds"] ? calibration.fullyAutomatic : DEFAULT_AUTO_MASK_PARAMS;
  const pointsPerSide = Number(values["points-per-side"] ?? DEFAULT_AUTO_MASK_PARAMS.pointsPerSide);
  if (!Number.isInteger(pointsPerSide) || pointsPerSide < 2)
    throw new UsageError(`--points-per-side must be an integer >= 2, got "${values["points-per-side"]}"`);
  const cropLayers = Number(values["crop-layers"] ?? DEFAULT_AUTO_MASK_PARAMS.cropNLayers);
  if (!Number.isInteger(cropLayers) || cropLayers < 0 || cropLayers > 4)
    throw new UsageError(`--crop-layers must be an integer 0..4, got "${values["crop-layers"]}"`);
  if (values.decoder !== "stock" && values.decoder !== "batch")
    throw new UsageError(`--decoder must be stock or batch, got "${values.decoder}"`);
  return {
    dataset: values.dataset ?? DEV_DATASET,
    limit,
    json: values.json,
    plain: values.plain,
    decoder: values.decoder,
    pointsPerSide,
    cropLayers,
    predIou: threshold("pred-iou", values["pred-iou"], defaults.predIouThresh),
    stability: threshold("stability", values.stability, defaults.stabilityScoreThresh),
    thresholdsFrom:
      values["pred-iou"] !== undefined || values.stability !== undefined
        ? "given"
        : calibration && !values["sam-thresholds"]
          ? `calibrated for ${calibration.model}`
          : "SAM's",
    sweep: values.sweep
      ? {
          predIous: thresholdList("sweep-pred-iou", values["sweep-pred-iou"], DEFAULT_SWEEP_PRED_IOU),
          stabilities: thresholdList("sweep-stability", values["sweep-stability"], DEFAULT_SWEEP_STABILITY),
        }
      : undefined,
    verbose: values.verbose,
  };
}

/** The faster decoder, if this checkout has it (it is built separately); null when the file is absent. */
async function loadBatchDecoder(): Promise<(PointDecoder & { release(): Promise<void> }) | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = path.resolve(here, "../src/node/point-decoder.ts");
  try {
    await access(file);
  } catch {
    return null;
  }
  const mod: { BatchPointDecoder?: { load(): Promise<PointDecoder & { release(): Promise<void> }> } } =
    await import(file);
  if (!mod.BatchPointDecoder) return null;
  return mod.BatchPointDecoder.load();
}

interface RunResult {
  seconds: number;
  masks: number;
  bestIou: number;
  stats: AutoMaskStats;
}

function score(gt: GroundTruth, result: AutoMaskResult, seconds: number): RunResult {
  let bestIou = 0;
  for (const m of result.masks) bestIou = Math.max(bestIou, objectIoU(gt, decodeRle(m.rle)));
  return { seconds, masks: result.masks.length, bestIou, stats: result.stats };
}

interface RowSummary {
  images: number;
  secondsPerImage: number;
  encodeSecondsPerImage: number;
  decodeSecondsPerImage: number;
  masksPerImage: number;
  recall50: number;
  recall75: number;
  /** Mean proposals left after each stage, per image. */
  filterCounts: Record<string, number>;
}

function summarize(runs: readonly RunResult[]): RowSummary {
  const n = runs.length;
  const mean = (f: (r: RunResult) => number) => runs.reduce((a, r) => a + f(r), 0) / n;
  const filterCounts: Record<string, number> = {};
  for (const stage of FILTER_STAGES) filterCounts[stage] = mean((r) => r.stats.filterCounts[stage] ?? 0);
  return {
    images: n,
    secondsPerImage: mean((r) => r.seconds),
    encodeSecondsPerImage: mean((r) => r.stats.encodeMs / 1000),
    decodeSecondsPerImage: mean((r) => r.stats.decodeMs / 1000),
    masksPerImage: mean((r) => r.masks),
    recall50: mean((r) => (r.bestIou >= 0.5 ? 1 : 0)),
    recall75: mean((r) => (r.bestIou >= 0.75 ? 1 : 0)),
    filterCounts,
  };
}

function printTable(rows: [string, RowSummary][]): void {
  const header = ["pass", "s/image", "encode s", "decode s", "masks/image", "recall@0.5", "recall@0.75"];
  const lines = rows.map(([name, r]) => [
    name,
    r.secondsPerImage.toFixed(1),
    r.encodeSecondsPerImage.toFixed(1),
    r.decodeSecondsPerImage.toFixed(1),
    r.masksPerImage.toFixed(1),
    r.recall50.toFixed(3),
    r.recall75.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  for (const [name, r] of rows) {
    const kept = FILTER_STAGES.map((s) => `${s} ${r.filterCounts[s]!.toFixed(0)}`).join(", ");
    console.log(`${name} — proposals left per image: ${kept}`);
  }
}

async function runImage(
  sam: NodeSam,
  decoder: PointDecoder,
  sample: DatasetSample,
  params: AutoMaskParams,
  plain: boolean,
): Promise<{ auto: RunResult; plain?: RunResult }> {
  const [image, gt] = await Promise.all([
    decodeImage(sample.imagePath, { keepOriginal: true }),
    loadGroundTruth(sample.gtPath),
  ]);
  if (image.width !== gt.object.width || image.height !== gt.object.height) {
    throw new DatasetError(
      `${sample.name}: image is ${image.width}x${image.height} but its ground truth is ${gt.object.width}x${gt.object.height}`,
    );
  }
  let start = performance.now();
  const auto = await generateAutoMasks(sam, decoder, image, params);
  const autoRun = score(gt, auto, (performance.now() - start) / 1000);
  if (!plain) return { auto: autoRun };
  start = performance.now();
  const base = await generatePlainAutoMasks(sam, image, { ...params, cropNLayers: 0 });
  return { auto: autoRun, plain: score(gt, base, (performance.now() - start) / 1000) };
}

async function runSweep(
  sam: NodeSam,
  decoder: PointDecoder,
  samples: readonly DatasetSample[],
  params: AutoMaskParams,
  lists: { predIous: number[]; stabilities: number[] },
  json: boolean,
  verbose: boolean,
): Promise<void> {
  const settings = sweepGrid(lists.predIous, lists.stabilities);
  const loose = {
    ...params,
    predIouThresh: Math.min(...lists.predIous),
    stabilityScoreThresh: Math.min(...lists.stabilities),
  };
  const perImage: SweepImageResult[] = [];
  for (const [i, sample] of samples.entries()) {
    const [image, gt] = await Promise.all([
      decodeImage(sample.imagePath, { keepOriginal: true }),
      loadGroundTruth(sample.gtPath),
    ]);
    const start = performance.now();
    const decoded = await decodeCropProposals(sam, decoder, image, autoMaskParamsSchema.parse(loose));
    const r = sweepImage(decoded, gt, loose, settings);
    perImage.push(r);
    if (verbose) console.error(JSON.stringify({ image: sample.name, ...r }));
    const d = settings.findIndex(
      (s) =>
        s.predIouThresh === params.predIouThresh && s.stabilityScoreThresh === params.stabilityScoreThresh,
    );
    const atDefault =
      d >= 0 ? `, at ${params.predIouThresh}/${params.stabilityScoreThresh} ${r.bestIou[d]!.toFixed(3)}` : "";
    console.error(
      `[${i + 1}/${samples.length}] ${sample.name}: oracle IoU ${r.oracleIou.toFixed(3)}${atDefault}, ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
  }
  const n = perImage.length;
  const share = (f: (r: SweepImageResult) => boolean) => perImage.filter(f).length / n;
  const rows = settings.map((s, k) => ({
    ...s,
    recall50: share((r) => r.bestIou[k]! >= 0.5),
    recall75: share((r) => r.bestIou[k]! >= 0.75),
    masksPerImage: perImage.reduce((a, r) => a + r.masks[k]!, 0) / n,
  }));
  const oracle = { recall50: share((r) => r.oracleIou >= 0.5), recall75: share((r) => r.oracleIou >= 0.75) };
  console.log(
    `threshold sweep, ${n} images; oracle (every candidate at the loosest thresholds, before NMS): recall@0.5 ${oracle.recall50.toFixed(3)}, recall@0.75 ${oracle.recall75.toFixed(3)}`,
  );
  console.log("pred IoU  stability  recall@0.5  recall@0.75  masks/image");
  for (const r of rows) {
    console.log(
      `${r.predIouThresh.toFixed(2).padStart(8)}  ${r.stabilityScoreThresh.toFixed(2).padStart(9)}  ${r.recall50.toFixed(3).padStart(10)}  ${r.recall75.toFixed(3).padStart(11)}  ${r.masksPerImage.toFixed(1).padStart(11)}`,
    );
  }
  if (json)
    console.log(JSON.stringify({ images: n, oracle, sweep: rows, bestIou: perImage.map((r) => r.bestIou) }));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const samples = (await listDataset(options.dataset)).slice(0, options.limit);
  const params: AutoMaskParams = {
    ...DEFAULT_AUTO_MASK_PARAMS,
    pointsPerSide: options.pointsPerSide,
    cropNLayers: options.cropLayers,
    predIouThresh: options.predIou,
    stabilityScoreThresh: options.stability,
  };
  console.error(
    `thresholds: predicted IoU > ${params.predIouThresh}, stability >= ${params.stabilityScoreThresh} (${options.thresholdsFrom})`,
  );
  const sam = await NodeSam.load();
  let decoderKind = options.decoder;
  let batch: Awaited<ReturnType<typeof loadBatchDecoder>> = null;
  if (decoderKind === "batch") {
    batch = await loadBatchDecoder();
    if (!batch) {
      console.error(
        "bench:amg: BatchPointDecoder (src/node/point-decoder.ts) is not there yet; using the stock decoder",
      );
      decoderKind = "stock";
    }
  }
  const decoder = batch ?? stockPointDecoder(sam);
  if (options.sweep) {
    try {
      await runSweep(sam, decoder, samples, params, options.sweep, options.json, options.verbose);
    } finally {
      await batch?.release();
      await sam.release();
    }
    return;
  }
  const autoRuns: RunResult[] = [];
  const plainRuns: RunResult[] = [];
  try {
    for (const [i, sample] of samples.entries()) {
      const r = await runImage(sam, decoder, sample, params, options.plain);
      autoRuns.push(r.auto);
      if (r.plain) plainRuns.push(r.plain);
      // Progress on stderr, so with --json stdout's last line stays the one JSON object.
      const plainPart = r.plain
        ? `; plain ${r.plain.masks} masks, best IoU ${r.plain.bestIou.toFixed(3)}, ${r.plain.seconds.toFixed(1)} s`
        : "";
      console.error(
        `[${i + 1}/${samples.length}] ${sample.name}: ${r.auto.masks} masks, best IoU ${r.auto.bestIou.toFixed(3)}, ${r.auto.seconds.toFixed(1)} s${plainPart}`,
      );
      if (options.verbose) console.error(JSON.stringify({ auto: r.auto.stats, plain: r.plain?.stats }));
    }
  } finally {
    await batch?.release();
    await sam.release();
  }
  const auto = summarize(autoRuns);
  const rows: [string, RowSummary][] = [
    [
      `auto (${params.pointsPerSide}x${params.pointsPerSide}, ${params.cropNLayers} crop layer, ${decoderKind})`,
      auto,
    ],
  ];
  const plain = options.plain ? summarize(plainRuns) : undefined;
  if (plain)
    rows.push([`plain (${params.pointsPerSide}x${params.pointsPerSide}, no crops, 1 point/decode)`, plain]);
  console.log(
    `dataset ${options.dataset}, ${samples.length} images; thresholds predicted IoU > ${params.predIouThresh}, stability >= ${params.stabilityScoreThresh} (${options.thresholdsFrom})`,
  );
  printTable(rows);
  if (options.json) {
    console.log(
      JSON.stringify({
        dataset: options.dataset,
        decoder: decoderKind,
        thresholdsFrom: options.thresholdsFrom,
        params,
        ...auto,
        ...(plain ? { plain } : {}),
      }),
    );
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof DatasetError || (e instanceof TypeError && "code" in e)) {
    console.error(`bench:amg: ${e.message}\n${USAGE}`);
  } else {
    console.error(e);
  }
  process.exitCode = 1;
});
