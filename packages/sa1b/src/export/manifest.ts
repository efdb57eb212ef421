/**
 * The retraining manifest written with every export (JSON Lines): a summary line first, then one row per
 * image. Rows are built while the shards are written; the summary is folded from them plus the masks'
 * timings and review decisions, so the writer keeps only counters and the timing samples in memory.
 */
import type { Sa1bMaskSource, Sa1bStage } from "../sa1b-file";

export type Split = "train" | "val";
export const DEFAULT_VAL_FRACTION = 0.05;

/**
 * Train or val from the image's sha256 alone: the first 8 hex digits as a fraction of 2^32 below
 * `valFraction` is val. The same image lands in the same split in every export, whatever else changes.
 */
export function splitOf(sha256: string, valFraction = DEFAULT_VAL_FRACTION): Split {
  if (!/^[0-9a-f]{8}/i.test(sha256)) throw new RangeError(`not a sha256 hex digest: ${sha256.slice(0, 16)}`);
  return Number.parseInt(sha256.slice(0, 8), 16) / 2 ** 32 < valFraction ? "val" : "train";
}

export type CountsBy<K extends string> = Partial<Record<K, number>>;

export interface ManifestRow {
  kind: "image";
  /** SA-1B's `sa_<n>` number, also `image.image_id` in the JSON. */
  imageId: number;
  /** The stored image's id in the project. */
  sourceImageId: string;
  sha256: string;
  shard: string;
  members: { image: string; annotations: string };
  split: Split;
  width: number;
  height: number;
  masks: number;
  byStage: CountsBy<Sa1bStage>;
  bySource: CountsBy<Sa1bMaskSource>;
  /** Names of the model versions that made this image's automatic (semi_auto / auto) masks. */
  modelVersions: string[];
}

export interface TimeStats {
  count: number;
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface ManifestSummary {
  kind: "summary";
  format: "sa1b";
  exportId: string;
  project: string;
  createdAt: string;
  params: Record<string, unknown>;
  shards: string[];
  totals: {
    images: number;
    masks: number;
    train: number;
    val: number;
    byStage: CountsBy<Sa1bStage>;
    bySource: CountsBy<Sa1bMaskSource>;
  };
  modelVersions: string[];
  /** MaskTiming.activeMs of the exported masks that have one (manual work). */
  timePerMask: TimeStats;
  /** Latest review decision of the exported masks; "unreviewed" for masks nobody looked at. */
  reviewOutcomes: Record<string, number>;
}

/** Mean, median and 90th percentile (nearest rank) of a sample; nulls for an empty one. */
export function timeStats(samples: readonly number[]): TimeStats {
  if (samples.length === 0) return { count: 0, meanMs: null, medianMs: null, p90Ms: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / n;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const p90 = sorted[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]!;
  return { count: n, meanMs: mean, medianMs: median, p90Ms: p90 };
}

function bump<K extends string>(counts: CountsBy<K>, key: K, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** One exported mask as the summary sees it. */
export interface ManifestMask {
  stage: Sa1bStage;
  source: Sa1bMaskSource;
  modelVersion: string | null;
  activeMs: number | null;
  reviewDecision: string | null;
}

/** Builds rows and folds the summary, one image at a time. */
export class ManifestBuilder {
  private readonly totals: ManifestSummary["totals"] = {
    images: 0,
    masks: 0,
    train: 0,
    val: 0,
    byStage: {},
    bySource: {},
  };
  private readonly models = new Set<string>();
  /** One number per timed mask: 8 bytes each, so 10M masks is 80 MB; exports that size are not timed work. */
  private readonly timings: number[] = [];
  private readonly reviews: Record<string, number> = {};

  constructor(private readonly valFraction = DEFAULT_VAL_FRACTION) {}

  addImage(image: {
    imageId: number;
    sourceImageId: string;
    sha256: string;
    shard: string;
    members: { image: string; annotations: string };
    width: number;
    height: number;
    masks: readonly ManifestMask[];
  }): ManifestRow {
    const byStage: CountsBy<Sa1bStage> = {};
    const bySource: CountsBy<Sa1bMaskSource> = {};
    const models = new Set<string>();
    for (const mask of image.masks) {
      bump(byStage, mask.stage);
      bump(bySource, mask.source);
      bump(this.totals.byStage, mask.stage);
      bump(this.totals.bySource, mask.source);
      if (mask.source !== "manual" && mask.modelVersion) models.add(mask.modelVersion);
      if (mask.activeMs !== null) this.timings.push(mask.activeMs);
      const outcome = mask.reviewDecision ?? "unreviewed";
      this.reviews[outcome] = (this.reviews[outcome] ?? 0) + 1;
    }
    for (const m of models) this.models.add(m);
    const split = splitOf(image.sha256, this.valFraction);
    this.totals.images += 1;
    this.totals.masks += image.masks.length;
    this.totals[split] += 1;
    return {
      kind: "image",
      imageId: image.imageId,
      sourceImageId: image.sourceImageId,
      sha256: image.sha256,
      shard: image.shard,
      members: image.members,
      split,
      width: image.width,
      height: image.height,
      masks: image.masks.length,
      byStage,
      bySource,
      modelVersions: [...models].sort(),
    };
  }

  summary(
    meta: Pick<ManifestSummary, "exportId" | "project" | "createdAt" | "params" | "shards">,
  ): ManifestSummary {
    return {
      kind: "summary",
      format: "sa1b",
      ...meta,
      totals: structuredClone(this.totals),
      modelVersions: [...this.models].sort(),
      timePerMask: timeStats(this.timings),
      reviewOutcomes: { ...this.reviews },
    };
  }
}

/** One JSON Lines line. */
export const jsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;
