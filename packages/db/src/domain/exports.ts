import { COCO_NAME, FILE_LIST_NAME, MANIFEST_NAME, shardName } from "@sas/sa1b";
import { z } from "zod";
import type { JobStatus, Prisma, PrismaClient } from "../generated/prisma/client";
import { audit } from "./audit";
import { RuleViolation } from "./users";

/**
 * SA-1B exports. An export is an `Export` row (what was produced: counts, size, where) and a `Job` row of
 * type `export` (the work: parameters, status, progress, attempts, error), created together. One BullMQ
 * job per export runs the writer; it claims the export here, reports progress, checks for a cancel
 * between batches, and completes or fails it. Files live under `exports/<exportId>/`.
 */

const MASK_SOURCES = ["manual", "semi_auto", "auto"] as const;
const STAGES = ["assisted_manual", "semi_automatic", "fully_automatic"] as const;
/** Statuses an export may include; deleted and rejected masks are never exported. */
const EXPORTABLE_STATUSES = ["accepted", "proposed"] as const;
const REVIEW_DECISIONS = ["approved", "corrected"] as const;

export const EXPORT_SOURCE_PRESETS = {
  /** What SA-1B released: the fully automatic masks only. */
  automatic: ["auto"],
  all: [...MASK_SOURCES],
} as const;

/** Which masks (and so which images: those with at least one) go into an export. */
export const exportFiltersSchema = z
  .object({
    /** "automatic" (as SA-1B released) or "all"; `sources` narrows further when given. */
    sourcePreset: z.enum(["automatic", "all"]).default("all"),
    sources: z.array(z.enum(MASK_SOURCES)).min(1).optional(),
    stages: z.array(z.enum(STAGES)).min(1).optional(),
    /** Mask status; proposals (unreviewed automatic masks) only when asked for. */
    statuses: z.array(z.enum(EXPORTABLE_STATUSES)).min(1).default(["accepted"]),
    reviewedOnly: z.boolean().default(false),
    reviewDecisions: z.array(z.enum(REVIEW_DECISIONS)).min(1).optional(),
    /** Mask creation time, inclusive bounds. */
    createdFrom: z.coerce.date().optional(),
    createdTo: z.coerce.date().optional(),
    label: z.string().min(1).max(200).optional(),
  })
  .refine((f) => !f.createdFrom || !f.createdTo || f.createdFrom <= f.createdTo, {
    message: "createdFrom must not be after createdTo",
    path: ["createdFrom"],
  });

export const exportOptionsSchema = z.object({
  /** Release downsampling: shortest side at most this many pixels (SA-1B used 1500). */
  shortestSide: z.number().int().min(16).max(20_000).optional(),
  /** Images per tar shard. */
  shardSize: z.number().int().min(1).max(100_000).default(1000),
  /** Also write COCO instance-segmentation JSON (`coco.json`). */
  coco: z.boolean().default(false),
  /** Share of images in the val split of the manifest. */
  valFraction: z.number().min(0).max(1).default(0.05),
});

export const exportParamsSchema = z.object({
  filters: exportFiltersSchema.default(() => exportFiltersSchema.parse({})),
  options: exportOptionsSchema.default(() => exportOptionsSchema.parse({})),
});

export type ExportFilters = z.infer<typeof exportFiltersSchema>;
export type ExportOptions = z.infer<typeof exportOptionsSchema>;
export type ExportParams = z.infer<typeof exportParamsSchema>;
export type ExportParamsInput = z.input<typeof exportParamsSchema>;

/** The masks an export takes, as a Prisma filter. */
export function exportMaskWhere(filters: ExportFilters): Prisma.MaskWhereInput {
  const preset: readonly string[] = EXPORT_SOURCE_PRESETS[filters.sourcePreset];
  const sources = (filters.sources ?? MASK_SOURCES).filter((s) => preset.includes(s));
  return {
    status: { in: [...filters.statuses] },
    source: { in: sources },
    ...(filters.stages ? { stage: { in: [...filters.stages] } } : {}),
    ...(filters.reviewDecisions
      ? { reviewDecision: { in: [...filters.reviewDecisions] } }
      : filters.reviewedOnly
        ? { reviewDecision: { not: null } }
        : {}),
    ...(filters.createdFrom || filters.createdTo
      ? {
          createdAt: {
            ...(filters.createdFrom ? { gte: filters.createdFrom } : {}),
            ...(filters.createdTo ? { lte: filters.createdTo } : {}),
          },
        }
      : {}),
    ...(filters.label ? { label: filters.label } : {}),
  };
}

/** Where an export's files are stored. */
export const exportKeyPrefix = (exportId: string) => `exports/${exportId}/`;
export const exportFileKey = (exportId: string, name: string) => `${exportKeyPrefix(exportId)}${name}`;

/** Names of the files an export with these options and this many images consists of. */
export function exportFileNames(options: ExportOptions, imageCount: number): string[] {
  const shards = Math.ceil(imageCount / options.shardSize);
  const names = Array.from({ length: shards }, (_, i) => shardName(i));
  names.push(MANIFEST_NAME, FILE_LIST_NAME);
  if (options.coco) names.push(COCO_NAME);
  return names;
}

const ACTIVE: JobStatus[] = ["queued", "running"];

export interface CreatedExport {
  id: string;
  jobId: string;
}

/**
 * Records an export (Export + Job rows) and audits `export.created`, in one transaction. The parameters
 * are validated here as a whole; NOT_FOUND for a project that does not exist.
 */
export async function createExport(
  db: PrismaClient,
  actor: { id: string | null },
  input: { projectId: string; params?: ExportParamsInput },
): Promise<CreatedExport> {
  const parsed = exportParamsSchema.safeParse(input.params ?? {});
  if (!parsed.success) {
    throw new RuleViolation("BAD_REQUEST", `bad export parameters: ${z.prettifyError(parsed.error)}`);
  }
  const params = parsed.data;
  const project = await db.project.findUnique({ where: { id: input.projectId }, select: { id: true } });
  if (!project) throw new RuleViolation("NOT_FOUND", "project not found");
  return db.$transaction(async (tx) => {
    const job = await tx.job.create({
      data: {
        type: "export",
        params: toJson(params),
        status: "queued",
        projectId: input.projectId,
        createdById: actor.id,
      },
      select: { id: true },
    });
    const row = await tx.export.create({
      data: {
        projectId: input.projectId,
        jobId: job.id,
        format: "sa1b",
        status: "queued",
        createdById: actor.id,
      },
      select: { id: true },
    });
    await tx.export.update({
      where: { id: row.id },
      data: { storageKey: exportKeyPrefix(row.id) },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "export.created",
      targetType: "export",
      targetId: row.id,
      projectId: input.projectId,
      details: { params: toJson(params) },
    });
    return { id: row.id, jobId: job.id };
  });
}

/** Dates as ISO strings: the params are stored as JSON and parsed back with the same schema. */
function toJson(params: unknown): Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(params)) as Prisma.InputJsonObject;
}

/** Locks an export's job row for the rest of the transaction, and returns both rows. */
async function lockExport(tx: Prisma.TransactionClient, exportId: string) {
  const row = await tx.export.findUnique({ where: { id: exportId } });
  if (!row?.jobId) return null;
  await tx.$queryRaw`SELECT id FROM "Job" WHERE id = ${row.jobId}::uuid FOR UPDATE`;
  const job = await tx.job.findUnique({ where: { id: row.jobId } });
  if (!job) return null;
  return { row, job };
}

export interface ClaimedExport {
  exportId: string;
  jobId: string;
  projectId: string;
  projectName: string;
  params: ExportParams;
  createdAt: Date;
  attempts: number;
}

/**
 * A worker takes an export: running, one more attempt, counters back to zero (a retry writes every file
 * again under the same keys). Null when there is nothing to do: cancelled, finished, or deleted.
 */
export async function claimExport(
  db: PrismaClient,
  exportId: string,
  now = new Date(),
): Promise<ClaimedExport | null> {
  return db.$transaction(async (tx) => {
    const locked = await lockExport(tx, exportId);
    if (!locked || !ACTIVE.includes(locked.job.status)) return null;
    const job = await tx.job.update({
      where: { id: locked.job.id },
      data: {
        status: "running",
        attempts: { increment: 1 },
        startedAt: locked.job.startedAt ?? now,
        progress: 0,
        doneItems: 0,
        resultCount: 0,
        error: null,
      },
      select: { attempts: true },
    });
    await tx.export.update({
      where: { id: exportId },
      data: { status: "running", imageCount: 0, maskCount: 0 },
    });
    const project = await tx.project.findUniqueOrThrow({
      where: { id: locked.row.projectId },
      select: { name: true },
    });
    return {
      exportId,
      jobId: locked.job.id,
      projectId: locked.row.projectId,
      projectName: project.name,
      params: exportParamsSchema.parse(locked.job.params),
      createdAt: locked.row.createdAt,
      attempts: job.attempts,
    };
  });
}

/** True when the export no longer wants work: cancelled, or deleted with its project. */
export async function exportIsCancelled(db: PrismaClient, exportId: string): Promise<boolean> {
  const row = await db.export.findUnique({
    where: { id: exportId },
    select: { status: true, job: { select: { status: true } } },
  });
  return !row || row.status === "cancelled" || row.job?.status === "cancelled";
}

export interface ExportProgress {
  totalImages: number;
  doneImages: number;
  masks: number;
}

/** Progress between batches; a no-op once the export is no longer running. */
export async function recordExportProgress(
  db: PrismaClient,
  exportId: string,
  progress: ExportProgress,
): Promise<void> {
  const row = await db.export.findUnique({ where: { id: exportId }, select: { jobId: true } });
  if (!row?.jobId) return;
  const fraction = progress.totalImages > 0 ? Math.min(0.99, progress.doneImages / progress.totalImages) : 0;
  await db.job.updateMany({
    where: { id: row.jobId, status: "running" },
    data: {
      totalItems: progress.totalImages,
      doneItems: progress.doneImages,
      resultCount: progress.masks,
      progress: fraction,
    },
  });
  await db.export.updateMany({
    where: { id: exportId, status: "running" },
    data: { imageCount: progress.doneImages, maskCount: progress.masks },
  });
}

/** The writer finished: completed with its counts and total size, unless it was cancelled meanwhile. */
export async function completeExport(
  db: PrismaClient,
  exportId: string,
  result: { images: number; masks: number; sizeBytes: number },
  now = new Date(),
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const locked = await lockExport(tx, exportId);
    if (locked?.job.status !== "running") return false;
    await tx.job.update({
      where: { id: locked.job.id },
      data: {
        status: "completed",
        progress: 1,
        finishedAt: now,
        totalItems: result.images,
        doneItems: result.images,
        resultCount: result.masks,
        error: null,
      },
    });
    await tx.export.update({
      where: { id: exportId },
      data: {
        status: "completed",
        finishedAt: now,
        imageCount: result.images,
        maskCount: result.masks,
        sizeBytes: BigInt(result.sizeBytes),
      },
    });
    return true;
  });
}

/** Failed for good (retries spent or an unrecoverable error); a cancelled export stays cancelled. */
export async function failExport(
  db: PrismaClient,
  exportId: string,
  reason: string,
  now = new Date(),
): Promise<void> {
  await db.$transaction(async (tx) => {
    const locked = await lockExport(tx, exportId);
    if (!locked || !ACTIVE.includes(locked.job.status)) return;
    await tx.job.update({
      where: { id: locked.job.id },
      data: { status: "failed", error: reason.slice(0, 500), finishedAt: now },
    });
    await tx.export.update({ where: { id: exportId }, data: { status: "failed", finishedAt: now } });
  });
}

/**
 * Cancels an export that is queued or running (the worker stops at its next batch). Cancelling a
 * cancelled export changes nothing; a finished one is a CONFLICT; NOT_FOUND outside `projectId`.
 */
export async function cancelExport(
  db: PrismaClient,
  projectId: string,
  exportId: string,
  now = new Date(),
): Promise<void> {
  await db.$transaction(async (tx) => {
    const locked = await lockExport(tx, exportId);
    if (!locked || locked.row.projectId !== projectId) {
      throw new RuleViolation("NOT_FOUND", "export not found");
    }
    if (locked.job.status === "cancelled") return;
    if (!ACTIVE.includes(locked.job.status)) {
      throw new RuleViolation(
        "CONFLICT",
        `the export has already ${locked.job.status === "failed" ? "failed" : "finished"}`,
      );
    }
    await tx.job.update({
      where: { id: locked.job.id },
      data: { status: "cancelled", finishedAt: now },
    });
    await tx.export.update({ where: { id: exportId }, data: { status: "cancelled", finishedAt: now } });
  });
}

export interface ExportSummary {
  id: string;
  projectId: string;
  status: JobStatus;
  /** 0..1 */
  progress: number;
  totalImages: number;
  imageCount: number;
  maskCount: number;
  sizeBytes: number | null;
  params: ExportParams;
  error: string | null;
  attempts: number;
  createdAt: Date;
  finishedAt: Date | null;
  createdByName: string | null;
  /** Downloadable files (shards, manifest, file list, COCO JSON); empty until the export completes. */
  files: string[];
}

const summarySelect = {
  id: true,
  projectId: true,
  status: true,
  imageCount: true,
  maskCount: true,
  sizeBytes: true,
  createdAt: true,
  finishedAt: true,
  createdBy: { select: { name: true } },
  job: {
    select: {
      params: true,
      progress: true,
      totalItems: true,
      error: true,
      attempts: true,
      status: true,
    },
  },
} satisfies Prisma.ExportSelect;

type SummaryRow = Prisma.ExportGetPayload<{ select: typeof summarySelect }>;

function toSummary(row: SummaryRow): ExportSummary {
  const params = exportParamsSchema.parse(row.job?.params ?? {});
  const status = row.job?.status ?? row.status;
  return {
    id: row.id,
    projectId: row.projectId,
    status,
    progress: status === "completed" ? 1 : (row.job?.progress ?? 0),
    totalImages: row.job?.totalItems ?? 0,
    imageCount: row.imageCount,
    maskCount: row.maskCount,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    params,
    error: row.job?.error ?? null,
    attempts: row.job?.attempts ?? 0,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    createdByName: row.createdBy?.name ?? null,
    files: status === "completed" ? exportFileNames(params.options, row.imageCount) : [],
  };
}

/** A project's exports, newest first. */
export async function listExports(db: PrismaClient, projectId: string, take = 50): Promise<ExportSummary[]> {
  const rows = await db.export.findMany({
    where: { projectId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    select: summarySelect,
  });
  return rows.map(toSummary);
}

/** One export; NOT_FOUND when it does not exist or belongs to another project than `projectId`. */
export async function exportSummary(
  db: PrismaClient,
  exportId: string,
  projectId?: string,
): Promise<ExportSummary> {
  const row = await db.export.findUnique({ where: { id: exportId }, select: summarySelect });
  if (!row || (projectId && row.projectId !== projectId)) {
    throw new RuleViolation("NOT_FOUND", "export not found");
  }
  return toSummary(row);
}
