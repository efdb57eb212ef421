/**
 * The team workflow of an image, as CVAT and Label Studio name it:
 *
 *   new ──lease/assign──► in_progress ──submit──► submitted ──first review──► in_review ──all approved──► done
 *                              │  ▲                    └──────────── a mask rejected ──► needs_changes ──┘
 *                              │  └──────────────────────── (the author fixes it: back to in_review) ◄──┘
 *                              └──skip (reason)──► skipped          reopen (managers): any state ──► new
 *
 * People move an image on explicitly: an annotator submits (an image with no mask only with an explicit
 * "nothing to label") or skips with a reason; a manager reopens or (re)assigns. Reviews move it on by
 * themselves (`reconcileReviewState`, called in the transaction of every review decision and mask change).
 * "Next image" only moves on: it never submits anything. Every explicit move is audited.
 */
import type { ImageWorkflowState, Prisma, PrismaClient } from "../generated/prisma/client";
import { audit } from "./audit";

export const WORKFLOW_STATES = [
  "new",
  "in_progress",
  "submitted",
  "in_review",
  "needs_changes",
  "done",
  "skipped",
] as const satisfies readonly ImageWorkflowState[];

/** States an annotator is still working in: they may submit or skip from these. */
export const OPEN_STATES = [
  "new",
  "in_progress",
  "needs_changes",
] as const satisfies readonly ImageWorkflowState[];

/** States in which reviews move the image on (see reconcileReviewState). */
const REVIEW_STATES: readonly ImageWorkflowState[] = ["submitted", "in_review", "needs_changes", "done"];

export type WorkflowErrorCode = "BAD_REQUEST" | "CONFLICT" | "NOT_FOUND" | "FORBIDDEN";

/** A workflow move refused by its rules; the message is for the person who asked. */
export class WorkflowError extends Error {
  override name = "WorkflowError";
  constructor(
    readonly code: WorkflowErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Tx = Prisma.TransactionClient;

/** An assignment that still holds its image: a manager's (no expiry) or a lease that has not run out. */
export function liveAssignmentWhere(now: Date): Prisma.AssignmentWhereInput {
  return { status: "active", OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

/** Who moves an image, as the permission step found them. */
export interface WorkflowActor {
  userId: string;
  /** The project's managers and admins move any image; annotators only their own. */
  canManage: boolean;
}

interface LockedImage {
  id: string;
  projectId: string;
  workflowState: ImageWorkflowState;
  annotatorId: string | null;
}

/** The image row, locked for this transaction (the same lock nextLease and reassignImage take). */
async function lockImage(tx: Tx, imageId: string): Promise<LockedImage> {
  const [image] = await tx.$queryRaw<LockedImage[]>`
    SELECT id::text AS id, "projectId"::text AS "projectId", "workflowState"::text AS "workflowState",
           "annotatorId"::text AS "annotatorId"
    FROM "Image" WHERE id = ${imageId}::uuid
    FOR NO KEY UPDATE`;
  if (!image) throw new WorkflowError("NOT_FOUND", "image not found");
  return image;
}

/** Annotators move only images they hold or worked on; managers any. */
async function assertMayMove(tx: Tx, actor: WorkflowActor, image: LockedImage, now: Date): Promise<void> {
  if (actor.canManage || image.annotatorId === actor.userId) return;
  const holds = await tx.assignment.count({
    where: { imageId: image.id, userId: actor.userId, ...liveAssignmentWhere(now) },
  });
  if (holds === 0) {
    throw new WorkflowError("FORBIDDEN", "this image is assigned to someone else");
  }
}

const stateNames: Record<ImageWorkflowState, string> = {
  new: "new",
  in_progress: "in progress",
  submitted: "submitted",
  in_review: "in review",
  needs_changes: "needs changes",
  done: "done",
  skipped: "skipped",
};

function assertOpen(image: LockedImage, what: string): void {
  if (!(OPEN_STATES as readonly string[]).includes(image.workflowState)) {
    throw new WorkflowError(
      "CONFLICT",
      `the image is ${stateNames[image.workflowState]}: it can no longer be ${what} (a manager can reopen it)`,
    );
  }
}

/** The holder's assignment ends as `completed`: the image stays visible to them, and leaves the pool. */
async function finishAssignments(tx: Tx, imageId: string, now: Date): Promise<void> {
  await tx.assignment.updateMany({
    where: { imageId, status: "active" },
    data: { status: "completed", completedAt: now },
  });
}

export interface WorkflowView {
  imageId: string;
  state: ImageWorkflowState;
  skipReason: string | null;
  annotatorId: string | null;
}

export interface SubmitInput {
  imageId: string;
  /** The annotator's explicit "nothing to label": required to submit an image that has no mask. */
  confirmEmpty?: boolean;
  now?: Date;
}

/**
 * An annotator hands an image in. With masks it waits for review (`submitted`); with none, only after the
 * annotator confirmed there is nothing to label, and then it is `done` (nothing to review). Masks a
 * reviewer rejected must be fixed or deleted first. Audited as `image.submitted`.
 */
export async function submitImage(
  db: PrismaClient,
  actor: WorkflowActor,
  input: SubmitInput,
): Promise<WorkflowView> {
  const now = input.now ?? new Date();
  return db.$transaction(async (tx) => {
    const image = await lockImage(tx, input.imageId);
    await assertMayMove(tx, actor, image, now);
    assertOpen(image, "submitted");
    const masks = await tx.mask.groupBy({
      by: ["status"],
      where: { imageId: image.id, status: { in: ["accepted", "rejected", "proposed"] } },
      _count: { _all: true },
    });
    const count = (s: string) => masks.find((m) => m.status === s)?._count._all ?? 0;
    if (count("rejected") > 0) {
      throw new WorkflowError("CONFLICT", "fix or delete the masks a reviewer rejected before submitting");
    }
    if (count("proposed") > 0) {
      throw new WorkflowError("CONFLICT", "accept, fix or delete the proposed masks before submitting");
    }
    const empty = count("accepted") === 0;
    if (empty && !input.confirmEmpty) {
      throw new WorkflowError(
        "BAD_REQUEST",
        "this image has no masks: confirm that there is nothing to label to submit it empty",
      );
    }
    const state: ImageWorkflowState = empty ? "done" : "submitted";
    const annotatorId = image.annotatorId ?? actor.userId;
    await tx.image.update({
      where: { id: image.id },
      data: { workflowState: state, annotatorId, skipReason: null, workflowAt: now },
    });
    await finishAssignments(tx, image.id, now);
    await audit(tx, {
      actorId: actor.userId,
      action: "image.submitted",
      targetType: "image",
      targetId: image.id,
      projectId: image.projectId,
      details: { from: image.workflowState, to: state, masks: count("accepted"), empty },
    });
    return { imageId: image.id, state, skipReason: null, annotatorId };
  });
}

/**
 * An annotator sets an image aside with a reason (blurred, wrong project, ...): `skipped`, out of the
 * pool until a manager reopens it. Audited as `image.skipped` with the reason.
 */
export async function skipImage(
  db: PrismaClient,
  actor: WorkflowActor,
  input: { imageId: string; reason: string; now?: Date },
): Promise<WorkflowView> {
  const now = input.now ?? new Date();
  const reason = input.reason.trim();
  if (!reason) throw new WorkflowError("BAD_REQUEST", "say why the image is skipped");
  return db.$transaction(async (tx) => {
    const image = await lockImage(tx, input.imageId);
    await assertMayMove(tx, actor, image, now);
    assertOpen(image, "skipped");
    const annotatorId = image.annotatorId ?? actor.userId;
    await tx.image.update({
      where: { id: image.id },
      data: { workflowState: "skipped", annotatorId, skipReason: reason, workflowAt: now },
    });
    await finishAssignments(tx, image.id, now);
    await audit(tx, {
      actorId: actor.userId,
      action: "image.skipped",
      targetType: "image",
      targetId: image.id,
      projectId: image.projectId,
      details: { from: image.workflowState, reason },
    });
    return { imageId: image.id, state: "skipped", skipReason: reason, annotatorId };
  });
}

/**
 * A manager sends images of their project back to the pool (`new`): whoever held them lets go (their
 * masks stay, and they still see images they drew on), the skip reason is cleared, and "next image" hands
 * them out again. Images already new are left alone. Each reopened image is audited as `image.reopened`.
 * Images of another project are refused as NOT_FOUND, all or nothing.
 */
export async function reopenImages(
  db: PrismaClient,
  actor: { userId: string },
  input: { projectId: string; imageIds: string[]; now?: Date },
): Promise<{ reopened: string[] }> {
  const now = input.now ?? new Date();
  const ids = [...new Set(input.imageIds)].sort();
  return db.$transaction(
    async (tx) => {
      const reopened: string[] = [];
      // Sorted ids: two bulk reopens lock rows in the same order and never deadlock.
      for (const id of ids) {
        const image = await lockImage(tx, id);
        if (image.projectId !== input.projectId) throw new WorkflowError("NOT_FOUND", "image not found");
        if (image.workflowState === "new") continue;
        await tx.assignment.updateMany({
          where: { imageId: id, status: "active" },
          data: { status: "released" },
        });
        await tx.image.update({
          where: { id },
          data: { workflowState: "new", annotatorId: null, skipReason: null, workflowAt: now },
        });
        await audit(tx, {
          actorId: actor.userId,
          action: "image.reopened",
          targetType: "image",
          targetId: id,
          projectId: image.projectId,
          details: { from: image.workflowState, annotatorId: image.annotatorId },
        });
        reopened.push(id);
      }
      return { reopened };
    },
    { maxWait: 15_000, timeout: 30_000 },
  );
}

/**
 * Moves a handed-in image on from its masks' reviews, in the caller's transaction (a review decision, or
 * a mask saved, changed, deleted or restored): any rejected mask → `needs_changes` (back to its author);
 * otherwise masks still unreviewed → `in_review` (or still `submitted` while nobody has reviewed any);
 * every mask approved or corrected → `done`. Images still being worked on (new, in progress, skipped) do
 * not move: review is for what was handed in. Each move is audited as `image.state_changed`.
 */
export async function reconcileReviewState(
  tx: Tx,
  imageId: string,
  actorId: string | null,
  now = new Date(),
): Promise<ImageWorkflowState | null> {
  const image = await tx.image.findUnique({
    where: { id: imageId },
    select: { projectId: true, workflowState: true },
  });
  if (!image || !REVIEW_STATES.includes(image.workflowState)) return null;
  const groups = await tx.mask.groupBy({
    by: ["status", "reviewDecision"],
    where: { imageId, status: { in: ["accepted", "rejected"] } },
    _count: { _all: true },
  });
  const total = groups.reduce((n, g) => n + g._count._all, 0);
  if (total === 0) return image.workflowState;
  const rejected = groups.filter((g) => g.status === "rejected").reduce((n, g) => n + g._count._all, 0);
  const unreviewed = groups
    .filter((g) => g.status === "accepted" && g.reviewDecision === null)
    .reduce((n, g) => n + g._count._all, 0);
  let next: ImageWorkflowState;
  if (rejected > 0) next = "needs_changes";
  else if (unreviewed === 0) next = "done";
  else if (unreviewed === total && image.workflowState === "submitted") next = "submitted";
  else next = "in_review";
  if (next === image.workflowState) return next;
  await tx.image.update({ where: { id: imageId }, data: { workflowState: next, workflowAt: now } });
  await audit(tx, {
    actorId,
    action: "image.state_changed",
    targetType: "image",
    targetId: imageId,
    projectId: image.projectId,
    details: { from: image.workflowState, to: next, rejected, unreviewed },
  });
  return next;
}

/**
 * An image's workflow state, for the annotation screen's workflow bar, and whether `actor` may move it
 * (submit, skip): the rule submitImage and skipImage apply, so the bar offers only what will work.
 */
export async function imageWorkflow(
  db: PrismaClient,
  imageId: string,
  actor: WorkflowActor,
): Promise<
  WorkflowView & {
    annotatorName: string | null;
    workflowAt: Date;
    masks: number;
    rejectedMasks: number;
    mayMove: boolean;
  }
> {
  const image = await db.image.findUnique({
    where: { id: imageId },
    select: {
      id: true,
      workflowState: true,
      skipReason: true,
      annotatorId: true,
      workflowAt: true,
      annotator: { select: { name: true } },
    },
  });
  if (!image) throw new WorkflowError("NOT_FOUND", "image not found");
  const [groups, holds] = await Promise.all([
    db.mask.groupBy({
      by: ["status"],
      where: { imageId, status: { in: ["accepted", "rejected"] } },
      _count: { _all: true },
    }),
    db.assignment.count({ where: { imageId, userId: actor.userId, ...liveAssignmentWhere(new Date()) } }),
  ]);
  return {
    imageId: image.id,
    state: image.workflowState,
    skipReason: image.skipReason,
    annotatorId: image.annotatorId,
    annotatorName: image.annotator?.name ?? null,
    workflowAt: image.workflowAt,
    masks: groups.reduce((n, g) => n + g._count._all, 0),
    rejectedMasks: groups.find((g) => g.status === "rejected")?._count._all ?? 0,
    mayMove: actor.canManage || image.annotatorId === actor.userId || holds > 0,
  };
}

export interface NeedsChangesItem {
  maskId: string;
  imageId: string;
  filename: string;
  label: string;
  reason: string;
  reviewerName: string | null;
  rejectedAt: Date;
}

/**
 * An annotator's masks that a reviewer rejected and that they have not fixed yet, newest rejection first,
 * each with the reviewer's reason: their "needs changes" list.
 */
export async function needsChanges(
  db: PrismaClient,
  input: { userId: string; projectId: string; limit?: number },
): Promise<NeedsChangesItem[]> {
  const masks = await db.mask.findMany({
    where: { authorId: input.userId, status: "rejected", image: { projectId: input.projectId } },
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    take: input.limit ?? 100,
    select: {
      id: true,
      imageId: true,
      label: true,
      updatedAt: true,
      image: { select: { filename: true } },
      reviews: {
        where: { decision: "rejected" },
        orderBy: { createdAt: "desc" },
        take: 1,
        select: { reason: true, createdAt: true, reviewer: { select: { name: true } } },
      },
    },
  });
  return masks.map((m) => ({
    maskId: m.id,
    imageId: m.imageId,
    filename: m.image.filename,
    label: m.label,
    reason: m.reviews[0]?.reason ?? "",
    reviewerName: m.reviews[0]?.reviewer?.name ?? null,
    rejectedAt: m.reviews[0]?.createdAt ?? m.updatedAt,
  }));
}

/**
 * States whose unreviewed masks the review queue lists: handed in and not yet done. Images still being
 * worked on (new, in progress, skipped) are not listed, whatever masks they carry (an automatic pass's
 * on images nobody handed in included): review is for what was handed in (see reconcileReviewState).
 */
export const REVIEW_QUEUE_STATES = [
  "submitted",
  "in_review",
  "needs_changes",
] as const satisfies readonly ImageWorkflowState[];

export interface ReviewQueueItem {
  imageId: string;
  filename: string;
  /** Accepted masks on the image that nobody has reviewed yet. */
  unreviewed: number;
}

/**
 * A project's review queue: images in REVIEW_QUEUE_STATES with accepted masks nobody has reviewed yet,
 * the one whose oldest such mask is oldest first. It walks the project's handed-in images (the image
 * index by state) and counts each one's unreviewed masks from their partial index (migration
 * 20261202100000_review_queue), instead of grouping every unreviewed mask of the project: at a million
 * images with five million masks from automatic passes, nearly none of them handed in.
 */
export async function reviewQueue(
  db: PrismaClient,
  input: { projectId: string; limit: number },
): Promise<ReviewQueueItem[]> {
  return db.$queryRaw<ReviewQueueItem[]>`
    SELECT i.id::text AS "imageId", i.filename, q.unreviewed
    FROM "Image" i
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS unreviewed, min(m."createdAt") AS oldest
      FROM "Mask" m
      WHERE m."imageId" = i.id AND m.status = 'accepted' AND m."reviewDecision" IS NULL
    ) q
    WHERE i."projectId" = ${input.projectId}::uuid
      AND i."workflowState" = ANY(${[...REVIEW_QUEUE_STATES]}::"ImageWorkflowState"[])
      AND q.unreviewed > 0
    ORDER BY q.oldest, i.id
    LIMIT ${input.limit}`;
}
