import { createHash } from "node:crypto";
import {
  type AutoMaskParams,
  autoMaskParamsSchema,
  DEFAULT_AUTO_MASK_PARAMS,
  FILTER_STAGES,
  pointsPerSideByLayer,
} from "@sas/sam";
import { calibrationFor, type ModelCalibration } from "@sas/sam/node";
import { z } from "zod";
import type { JobStatus, JobType, Prisma, PrismaClient } from "../generated/prisma/client";
import { audit } from "./audit";
import { modelVersionForProject } from "./embeddings";
import { type AutomaticMaskInput, replaceAutomaticMasks } from "./masks";
import { RuleViolation } from "./users";

/**
 * Automatic passes (SA-1B data engine stages 2 and 3). A pass is a `Job` row (type semi_auto or full_auto)
 * with one `PassImage` row per image: the durable record the workers claim, complete or fail, and that
 * progress, cancel and statistics are computed from. BullMQ carries one job per image; everything that
 * must stay consistent (counters, masks, status) changes here, under the pass row's lock.
 */

type Tx = Prisma.TransactionClient;

export type PassStage = "semi_automatic" | "fully_automatic";
export const PASS_STAGES = ["semi_automatic", "fully_automatic"] as const satisfies readonly PassStage[];

const jobTypeOf: Record<PassStage, JobType> = { semi_automatic: "semi_auto", fully_automatic: "full_auto" };
const stageOf = (type: JobType): PassStage => (type === "semi_auto" ? "semi_automatic" : "fully_automatic");
const PASS_TYPES: JobType[] = ["semi_auto", "full_auto"];

/**
 * Every pass transaction waits for the pass row's lock and runs in processes busy with inference, whose
 * event loop can stall for seconds between two queries (mask upsampling and RLE encoding are synchronous):
 * Prisma's 5 s default would abort them half-way. Storing thousands of masks also takes a while.
 */
const PASS_TX = { timeout: 60_000, maxWait: 30_000 } as const;

/** Statuses in which a pass still has work to do (and may be cancelled). */
const ACTIVE: JobStatus[] = ["queued", "running"];

/**
 * Semi-automatic passes pre-fill images for annotators, so they keep only the confident masks: the fully
 * automatic defaults with stricter predicted-IoU and stability thresholds.
 */
const STAGE_DEFAULTS: Record<PassStage, AutoMaskParams> = {
  fully_automatic: DEFAULT_AUTO_MASK_PARAMS,
  semi_automatic: { ...DEFAULT_AUTO_MASK_PARAMS, predIouThresh: 0.94, stabilityScoreThresh: 0.97 },
};

/** The model a pass runs, as far as its defaults care: the hashes that identify its files. */
export type PassModel = { encoderSha256: string; decoderSha256: string } | null;

/**
 * A stage's defaults for a model: SAM's parameters (stricter thresholds for semi-automatic passes), with
 * the thresholds calibrated for that model when it has a calibration (`calibrationFor`).
 */
export function passDefaults(stage: PassStage, model: PassModel = null): AutoMaskParams {
  const calibration = model ? calibrationFor(model) : null;
  if (!calibration) return { ...STAGE_DEFAULTS[stage] };
  const thresholds = stage === "semi_automatic" ? calibration.semiAutomatic : calibration.fullyAutomatic;
  return { ...STAGE_DEFAULTS[stage], ...thresholds };
}

export interface StageDefaults {
  params: AutoMaskParams;
  /** Set when the thresholds are calibrated for the project's model rather than SAM's own. */
  calibration:
    | (Pick<ModelCalibration, "model" | "basis"> & {
        /** What the stage would use without the calibration. */
        uncalibrated: Pick<AutoMaskParams, "predIouThresh" | "stabilityScoreThresh">;
      })
    | null;
}

/** The defaults the pass launcher pre-fills for a project (its model version, else the active one). */
export async function stageDefaultsForProject(
  db: PrismaClient,
  stage: PassStage,
  projectId: string | undefined,
): Promise<StageDefaults> {
  const model = projectId
    ? await modelVersionForProject(db, projectId)
    : await db.modelVersion.findFirst({ where: { isActive: true } });
  const calibration = model ? calibrationFor(model) : null;
  return {
    params: passDefaults(stage, model),
    calibration: calibration
      ? {
          model: calibration.model,
          basis: calibration.basis,
          uncalibrated: {
            predIouThresh: STAGE_DEFAULTS[stage].predIouThresh,
            stabilityScoreThresh: STAGE_DEFAULTS[stage].stabilityScoreThresh,
          },
        }
      : null,
  };
}

/**
 * A pass's parameters: the caller's overrides over the stage's defaults for the model, validated as a
 * whole. Unknown names and out-of-range values are a BAD_REQUEST that says which.
 */
export function resolvePassParams(
  stage: PassStage,
  overrides: Record<string, unknown> = {},
  model: PassModel = null,
): AutoMaskParams {
  const known = new Set(Object.keys(DEFAULT_AUTO_MASK_PARAMS));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length) throw new RuleViolation("BAD_REQUEST", `unknown pass parameter ${unknown.join(", ")}`);
  const parsed = autoMaskParamsSchema.safeParse({ ...passDefaults(stage, model), ...overrides });
  if (!parsed.success) {
    throw new RuleViolation("BAD_REQUEST", `bad pass parameters: ${z.prettifyError(parsed.error)}`);
  }
  try {
    // Every crop layer needs at least one point: refuse a combination that leaves one empty now.
    pointsPerSideByLayer(parsed.data);
  } catch (error) {
    if (error instanceof RangeError)
      throw new RuleViolation("BAD_REQUEST", `bad pass parameters: ${error.message}`);
    throw error;
  }
  return parsed.data;
}

/** JSON with object keys sorted at every level, so equal values always hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * What makes two passes "the same": stage, model version and parameters. A rerun with the same key
 * replaces the masks the earlier run left untouched, instead of adding a second copy.
 */
export function passKeyOf(input: {
  stage: PassStage;
  modelVersionId: string | null;
  params: AutoMaskParams;
}): string {
  return createHash("sha256")
    .update(canonicalJson({ stage: input.stage, modelVersionId: input.modelVersionId, params: input.params }))
    .digest("hex");
}

export interface NewPass {
  projectId: string;
  /** A subset of the project's images; omitted means every image of the project. */
  imageIds?: readonly string[];
  stage: PassStage;
  params?: Record<string, unknown>;
}

export interface CreatedPass {
  id: string;
  passKey: string;
  /** The images it will process (failed images are left out): one BullMQ job each. */
  imageIds: string[];
}

/**
 * Records a pass and its work items, and audits `pass.started`, in one transaction. Images that failed
 * to ingest are left out (the encoder cannot read them); a pass with no image left, an image outside the
 * project, bad parameters or no model version are BAD_REQUEST. CONFLICT while an identical pass (same
 * key) is still running in the project: both would replace each other's masks image by image.
 */
export async function createPass(
  db: PrismaClient,
  actor: { id: string },
  input: NewPass,
): Promise<CreatedPass> {
  // Parameters are checked before anything is read, so a bad one is reported even without a model.
  resolvePassParams(input.stage, input.params);
  const project = await db.project.findUnique({ where: { id: input.projectId }, select: { id: true } });
  if (!project) throw new RuleViolation("NOT_FOUND", "project not found");
  const model = await modelVersionForProject(db, input.projectId);
  if (!model) throw new RuleViolation("BAD_REQUEST", "no model version is active; activate one first");
  const params = resolvePassParams(input.stage, input.params, model);
  const passKey = passKeyOf({ stage: input.stage, modelVersionId: model.id, params });

  const requested = input.imageIds ? [...new Set(input.imageIds)] : null;
  const images = await db.image.findMany({
    where: { projectId: input.projectId, ...(requested ? { id: { in: requested } } : {}) },
    select: { id: true, status: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  if (requested && images.length !== requested.length) {
    const found = new Set(images.map((i) => i.id));
    const missing = requested.filter((id) => !found.has(id));
    throw new RuleViolation(
      "BAD_REQUEST",
      `${missing.length} of the chosen images ${missing.length === 1 ? "is" : "are"} not in this project`,
    );
  }
  const imageIds = images.filter((i) => i.status !== "failed").map((i) => i.id);
  if (imageIds.length === 0) {
    throw new RuleViolation(
      "BAD_REQUEST",
      "no image to process: the selection is empty or every image failed",
    );
  }

  return db.$transaction(async (tx) => {
    // One start at a time per project, so the duplicate check below cannot race a twin start.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`pass-start:${input.projectId}`}))`;
    const twin = await tx.job.findFirst({
      where: { projectId: input.projectId, passKey, status: { in: ACTIVE } },
      select: { id: true },
    });
    if (twin) {
      throw new RuleViolation(
        "CONFLICT",
        "the same pass (stage, model and parameters) is still running in this project; cancel it or wait",
      );
    }
    const job = await tx.job.create({
      data: {
        type: jobTypeOf[input.stage],
        params,
        status: "queued",
        projectId: input.projectId,
        createdById: actor.id,
        modelVersionId: model.id,
        passKey,
        totalItems: imageIds.length,
      },
      select: { id: true },
    });
    await tx.passImage.createMany({ data: imageIds.map((imageId) => ({ jobId: job.id, imageId })) });
    await audit(tx, {
      actorId: actor.id,
      action: "pass.started",
      targetType: "job",
      targetId: job.id,
      projectId: input.projectId,
      details: { stage: input.stage, images: imageIds.length, modelVersion: model.name, params },
    });
    return { id: job.id, passKey, imageIds };
  }, PASS_TX);
}

/** What a worker needs to process one image of a pass. */
export interface ClaimedPassImage {
  jobId: string;
  imageId: string;
  stage: PassStage;
  params: AutoMaskParams;
  passKey: string;
  modelVersionId: string | null;
  /** Tries of this image so far, this one included. */
  attempts: number;
}

/** The pass row, locked for the rest of the transaction: every counter change of a pass goes through it. */
async function lockPass(tx: Tx, jobId: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
  if (rows.length === 0) return null;
  return tx.job.findUnique({ where: { id: jobId } });
}

/**
 * A worker takes one image: marks it running (one more attempt) and the pass running. Null when there
 * is nothing to do: the pass was cancelled or deleted, or the image is already done. An image found
 * "running" is taken again: its previous worker died (BullMQ hands a stalled job to another worker).
 * A failed image taken again (an admin retried its job) reopens a finished pass.
 */
export async function claimPassImage(
  db: PrismaClient,
  jobId: string,
  imageId: string,
  now = new Date(),
): Promise<ClaimedPassImage | null> {
  return db.$transaction(async (tx) => {
    const pass = await lockPass(tx, jobId);
    if (!pass || pass.status === "cancelled" || !PASS_TYPES.includes(pass.type)) return null;
    const item = await tx.passImage.findUnique({ where: { jobId_imageId: { jobId, imageId } } });
    if (!item || item.status === "completed" || item.status === "cancelled") return null;
    const claimed = await tx.passImage.update({
      where: { jobId_imageId: { jobId, imageId } },
      data: { status: "running", attempts: { increment: 1 }, startedAt: now, finishedAt: null, error: null },
      select: { attempts: true },
    });
    // A failed image taken again is no longer failed: it counts again once it completes or fails anew.
    const failedItems = pass.failedItems - (item.status === "failed" ? 1 : 0);
    if (pass.status !== "running" || failedItems !== pass.failedItems) {
      await tx.job.update({
        where: { id: jobId },
        data: {
          status: "running",
          startedAt: pass.startedAt ?? now,
          finishedAt: null,
          error: null,
          failedItems,
          progress: progressOf({ ...pass, failedItems }),
        },
      });
    }
    return {
      jobId,
      imageId,
      stage: stageOf(pass.type),
      // Validated when the pass was created; parsing again keeps the type honest.
      params: autoMaskParamsSchema.parse(pass.params),
      passKey: pass.passKey ?? "",
      modelVersionId: pass.modelVersionId,
      attempts: claimed.attempts,
    };
  }, PASS_TX);
}

/** True when the pass no longer wants work: cancelled, or deleted with its project. Workers poll this. */
export async function passIsCancelled(db: PrismaClient, jobId: string): Promise<boolean> {
  const pass = await db.job.findUnique({ where: { id: jobId }, select: { status: true } });
  return !pass || pass.status === "cancelled";
}

type Counters = { totalItems: number; doneItems: number; failedItems: number };

/** Share of the images finished, done or failed. */
const progressOf = (pass: Counters) =>
  pass.totalItems > 0 ? Math.min(1, (pass.doneItems + pass.failedItems) / pass.totalItems) : 1;

/** The pass's counters after one item finished, and its status once every item has. */
function finishedCounters(pass: Counters, now: Date): Prisma.JobUpdateInput {
  const progress = progressOf(pass);
  if (pass.doneItems + pass.failedItems < pass.totalItems) return { progress };
  // A pass where every image failed produced nothing: say so rather than "completed".
  return pass.doneItems > 0
    ? { progress, status: "completed", finishedAt: now, error: null }
    : { progress, status: "failed", finishedAt: now, error: "every image failed" };
}

export interface PassImageResult {
  jobId: string;
  imageId: string;
  masks: AutomaticMaskInput[];
  seconds: number;
  /** Proposals left after each filter stage (AutoMaskStats.filterCounts). */
  filterCounts: Record<string, number>;
  now?: Date;
}

export type CompletionOutcome =
  | { status: "completed"; inserted: number; replaced: number; passFinished: boolean }
  /** Nothing written: the pass was cancelled or deleted, or this image was already completed. */
  | { status: "skipped"; reason: "cancelled" | "already finished" | "not in the pass" };

/**
 * Stores one image's masks and counts it, in one transaction under the pass row's lock: replaces this
 * image's earlier untouched masks of the same pass key, marks the image done with its statistics, and
 * advances the pass (completed when every image is done or failed). Idempotent: a second completion of
 * the same image (a stalled job that finished after all) writes nothing, so only the first counts. A
 * cancelled pass takes no more masks, so after a cancel each image has either all its masks or none.
 */
export async function completePassImage(
  db: PrismaClient,
  result: PassImageResult,
): Promise<CompletionOutcome> {
  const now = result.now ?? new Date();
  return db.$transaction(async (tx) => {
    const pass = await lockPass(tx, result.jobId);
    if (!pass || pass.status === "cancelled") return { status: "skipped", reason: "cancelled" } as const;
    const where = { jobId_imageId: { jobId: result.jobId, imageId: result.imageId } };
    const item = await tx.passImage.findUnique({ where, select: { status: true } });
    if (!item) return { status: "skipped", reason: "not in the pass" } as const;
    if (item.status === "cancelled") return { status: "skipped", reason: "cancelled" } as const;
    // "failed" here means the image failed for good while this attempt ran on (a stalled job's first
    // worker): the failure was counted, so this late result is not.
    if (item.status === "completed" || item.status === "failed") {
      return { status: "skipped", reason: "already finished" } as const;
    }

    const { inserted, replaced } = await replaceAutomaticMasks(tx, {
      imageId: result.imageId,
      jobId: result.jobId,
      passKey: pass.passKey ?? "",
      stage: stageOf(pass.type),
      modelVersionId: pass.modelVersionId,
      masks: result.masks,
    });
    await tx.passImage.update({
      where,
      data: {
        status: "completed",
        masks: inserted,
        seconds: result.seconds,
        filterCounts: result.filterCounts,
        error: null,
        finishedAt: now,
      },
    });
    const counters = { ...pass, doneItems: pass.doneItems + 1 };
    const update = finishedCounters(counters, now);
    await tx.job.update({
      where: { id: result.jobId },
      data: { ...update, doneItems: counters.doneItems, resultCount: { increment: inserted } },
    });
    return { status: "completed", inserted, replaced, passFinished: update.status !== undefined } as const;
  }, PASS_TX);
}

/**
 * Records that an image failed for good (no retries left). Counted once, however often it is reported;
 * nothing changes for a cancelled pass or an image that completed meanwhile.
 */
export async function failPassImage(
  db: PrismaClient,
  input: { jobId: string; imageId: string; error: string; now?: Date },
): Promise<void> {
  const now = input.now ?? new Date();
  await db.$transaction(async (tx) => {
    const pass = await lockPass(tx, input.jobId);
    if (!pass || pass.status === "cancelled") return;
    const where = { jobId_imageId: { jobId: input.jobId, imageId: input.imageId } };
    const item = await tx.passImage.findUnique({ where, select: { status: true } });
    if (!item || item.status === "completed" || item.status === "cancelled" || item.status === "failed")
      return;
    await tx.passImage.update({
      where,
      data: { status: "failed", error: input.error.slice(0, 500), finishedAt: now },
    });
    const counters = { ...pass, failedItems: pass.failedItems + 1 };
    await tx.job.update({
      where: { id: input.jobId },
      data: { ...finishedCounters(counters, now), failedItems: counters.failedItems },
    });
  }, PASS_TX);
}

/**
 * Cancels a pass: its status, and every image not yet finished, become cancelled; audits
 * `pass.cancelled`. Images already done keep their masks. Returns the images that were still to do,
 * whose queued jobs the caller removes. Cancelling a cancelled pass changes nothing; a finished one is
 * a CONFLICT.
 */
export async function cancelPass(
  db: PrismaClient,
  actor: { id: string },
  jobId: string,
  now = new Date(),
): Promise<{ cancelledImageIds: string[] }> {
  return db.$transaction(async (tx) => {
    const pass = await lockPass(tx, jobId);
    if (!pass || !PASS_TYPES.includes(pass.type)) throw new RuleViolation("NOT_FOUND", "pass not found");
    if (pass.status === "cancelled") return { cancelledImageIds: [] };
    if (!ACTIVE.includes(pass.status)) {
      throw new RuleViolation(
        "CONFLICT",
        `the pass has already ${pass.status === "failed" ? "failed" : "finished"}`,
      );
    }
    const open = await tx.passImage.findMany({
      where: { jobId, status: { in: ACTIVE } },
      select: { imageId: true },
    });
    await tx.passImage.updateMany({
      where: { jobId, status: { in: ACTIVE } },
      data: { status: "cancelled", finishedAt: now },
    });
    await tx.job.update({ where: { id: jobId }, data: { status: "cancelled", finishedAt: now } });
    await audit(tx, {
      actorId: actor.id,
      action: "pass.cancelled",
      targetType: "job",
      targetId: jobId,
      projectId: pass.projectId,
      details: {
        stage: stageOf(pass.type),
        doneItems: pass.doneItems,
        failedItems: pass.failedItems,
        cancelledItems: open.length,
      },
    });
    return { cancelledImageIds: open.map((i) => i.imageId) };
  }, PASS_TX);
}

/**
 * Ends a pass that cannot run at all (its jobs could not be queued): failed with the reason, its open
 * images cancelled, so it neither hangs as "queued" nor blocks an identical pass.
 */
export async function abortPass(
  db: PrismaClient,
  jobId: string,
  reason: string,
  now = new Date(),
): Promise<void> {
  await db.$transaction(async (tx) => {
    const pass = await lockPass(tx, jobId);
    if (!pass || !ACTIVE.includes(pass.status)) return;
    await tx.passImage.updateMany({
      where: { jobId, status: { in: ACTIVE } },
      data: { status: "cancelled", finishedAt: now },
    });
    await tx.job.update({
      where: { id: jobId },
      data: { status: "failed", error: reason.slice(0, 500), finishedAt: now },
    });
  }, PASS_TX);
}

// ---- reading passes -----------------------------------------------------------------------------------

export interface PassSummary {
  id: string;
  projectId: string;
  projectName: string;
  stage: PassStage;
  status: JobStatus;
  modelVersionName: string | null;
  totalItems: number;
  doneItems: number;
  failedItems: number;
  /** Masks stored by the pass. */
  resultCount: number;
  /** 0..1: images finished (done or failed) over all. */
  progress: number;
  etaSeconds: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdByName: string | null;
  error: string | null;
}

export interface PassFilterShare {
  name: string;
  /** Proposals left after this stage, summed over the done images. */
  kept: number;
  /** kept / candidates (the proposals before any filter). */
  share: number;
}

export interface PassDetail extends PassSummary {
  params: AutoMaskParams;
  stats: {
    masksPerImage: number | null;
    secondsPerImage: number | null;
    filters: PassFilterShare[];
  };
  images: {
    imageId: string;
    filename: string;
    status: JobStatus;
    masks: number;
    seconds: number | null;
    error: string | null;
  }[];
}

const summarySelect = {
  id: true,
  type: true,
  status: true,
  progress: true,
  error: true,
  projectId: true,
  totalItems: true,
  doneItems: true,
  failedItems: true,
  resultCount: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  params: true,
  project: { select: { name: true } },
  modelVersion: { select: { name: true } },
  createdBy: { select: { name: true } },
} satisfies Prisma.JobSelect;
type SummaryRow = Prisma.JobGetPayload<{ select: typeof summarySelect }>;

/** Per pass: mean seconds of its done images, and how many images workers hold right now. */
interface Pace {
  secondsPerImage: number | null;
  running: number;
}

async function paceOf(db: PrismaClient, jobIds: string[]): Promise<Map<string, Pace>> {
  const [done, running] = await Promise.all([
    db.passImage.groupBy({
      by: ["jobId"],
      where: { jobId: { in: jobIds }, status: "completed" },
      _avg: { seconds: true },
    }),
    db.passImage.groupBy({
      by: ["jobId"],
      where: { jobId: { in: jobIds }, status: "running" },
      _count: { _all: true },
    }),
  ]);
  const pace = new Map<string, Pace>(jobIds.map((id) => [id, { secondsPerImage: null, running: 0 }]));
  for (const row of done) pace.get(row.jobId)!.secondsPerImage = row._avg.seconds;
  for (const row of running) pace.get(row.jobId)!.running = row._count._all;
  return pace;
}

/**
 * Seconds left, estimated as remaining images x mean seconds per done image / images in flight: workers
 * run images in parallel, and the number running now is the best cheap guess at how many will keep doing
 * so. Null before the first image is done (nothing to go by) and once the pass has stopped.
 */
function etaSeconds(row: SummaryRow, pace: Pace): number | null {
  if (!ACTIVE.includes(row.status) || pace.secondsPerImage === null) return null;
  const remaining = row.totalItems - row.doneItems - row.failedItems;
  return Math.round((remaining * pace.secondsPerImage) / Math.max(1, pace.running));
}

function toSummary(row: SummaryRow, pace: Pace): PassSummary {
  return {
    id: row.id,
    projectId: row.projectId ?? "",
    projectName: row.project?.name ?? "",
    stage: stageOf(row.type),
    status: row.status,
    modelVersionName: row.modelVersion?.name ?? null,
    totalItems: row.totalItems,
    doneItems: row.doneItems,
    failedItems: row.failedItems,
    resultCount: row.resultCount,
    progress: row.progress,
    etaSeconds: etaSeconds(row, pace),
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    createdByName: row.createdBy?.name ?? null,
    error: row.error,
  };
}

/** Passes, newest first; of one project when given. */
export async function listPasses(
  db: PrismaClient,
  filter: { projectId?: string } = {},
): Promise<PassSummary[]> {
  const rows = await db.job.findMany({
    where: { type: { in: PASS_TYPES }, ...(filter.projectId ? { projectId: filter.projectId } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: summarySelect,
    take: 200,
  });
  const pace = await paceOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toSummary(row, pace.get(row.id)!));
}

async function summaryRow(db: PrismaClient, id: string): Promise<SummaryRow> {
  const row = await db.job.findFirst({ where: { id, type: { in: PASS_TYPES } }, select: summarySelect });
  if (!row) throw new RuleViolation("NOT_FOUND", "pass not found");
  return row;
}

/** One pass's summary; NOT_FOUND for an unknown id or a job that is not a pass. */
export async function passSummary(db: PrismaClient, id: string): Promise<PassSummary> {
  const row = await summaryRow(db, id);
  return toSummary(row, (await paceOf(db, [id])).get(id)!);
}

/**
 * Sums each filter stage's count over the images and divides by the candidates (every multimask
 * candidate decoded). Stages come in pipeline order (jsonb does not keep key order); names the
 * generator may add later follow, largest first.
 */
export function filterShares(counts: readonly unknown[]): PassFilterShare[] {
  const sums = new Map<string, number>();
  for (const entry of counts) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) continue;
    for (const [name, value] of Object.entries(entry)) {
      if (typeof value === "number" && Number.isFinite(value)) sums.set(name, (sums.get(name) ?? 0) + value);
    }
  }
  const order: readonly string[] = FILTER_STAGES;
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const ordered = [...sums.entries()].sort(
    ([a, x], [b, y]) => rank(a) - rank(b) || y - x || a.localeCompare(b),
  );
  const base = sums.get("candidates") ?? 0;
  return ordered.map(([name, kept]) => ({ name, kept, share: base > 0 ? kept / base : 0 }));
}

/** One pass with its parameters, statistics over its done images, and every image's state. */
export async function passDetail(db: PrismaClient, id: string): Promise<PassDetail> {
  const row = await summaryRow(db, id);
  const items = await db.passImage.findMany({
    where: { jobId: id },
    select: {
      imageId: true,
      status: true,
      masks: true,
      seconds: true,
      error: true,
      filterCounts: true,
      image: { select: { filename: true } },
    },
    orderBy: [{ image: { filename: "asc" } }, { imageId: "asc" }],
  });
  const done = items.filter((i) => i.status === "completed");
  const running = items.filter((i) => i.status === "running").length;
  const timed = done.filter((i) => i.seconds !== null);
  const secondsPerImage = timed.length
    ? timed.reduce((sum, i) => sum + (i.seconds ?? 0), 0) / timed.length
    : null;
  const masksPerImage = done.length ? done.reduce((sum, i) => sum + i.masks, 0) / done.length : null;
  return {
    ...toSummary(row, { secondsPerImage, running }),
    params: autoMaskParamsSchema.parse(row.params),
    stats: { masksPerImage, secondsPerImage, filters: filterShares(done.map((i) => i.filterCounts)) },
    images: items.map((i) => ({
      imageId: i.imageId,
      filename: i.image.filename,
      status: i.status,
      masks: i.masks,
      seconds: i.seconds,
      error: i.error,
    })),
  };
}
