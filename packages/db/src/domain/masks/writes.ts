/**
 * Mask writes made by people (the annotation page, and anything else acting for a person): save a new
 * mask with its timing, edit, delete, restore, accept a proposal. Every change names the version it read
 * and is written conditionally on it, so of two people changing the same read exactly one wins and the
 * other gets a CONFLICT carrying the current version.
 *
 * Who may see the image is the API's rule (packages/api/src/access.ts), checked before these run; the
 * rule of who may change which mask lives here (see `assertMayChange`): a mask a reviewer approved is
 * protected from everyone but reviewers and managers, and a refused attempt is audited.
 *
 * Every write moves the image's workflow on in the same transaction (`reconcileReviewState`): a fix of a
 * rejected mask sends it back to review, and an image handed in again after changes returns to review.
 */
import type { CocoRle } from "@sas/sa1b";
import type {
  MaskSource,
  MaskStatus,
  Prisma,
  PrismaClient,
  ReviewDecision,
} from "../../generated/prisma/client";
import { audit } from "../audit";
import { decodingModelVersions } from "../embeddings";
import { isUniqueViolation } from "../users";
import { reconcileReviewState } from "../workflow";
import { conflict, staleVersion } from "./conflicts";
import { MaskDomainError, maskNotFound } from "./errors";
import { type MaskGeometry, storedGeometry } from "./geometry";
import { type MaskView, maskView } from "./view";

export type MaskPrompt =
  | { type: "point"; x: number; y: number; label: 0 | 1 }
  | { type: "box"; x0: number; y0: number; x1: number; y1: number }
  | { type: "brush"; mode: "paint" | "erase"; radius: number; points: [number, number][] };

/** Time and effort spent on one mask; `activeMs` leaves out idle gaps. */
export type MaskTimingInput = {
  startedAt: Date;
  finishedAt: Date;
  activeMs: number;
  clicks: number;
  boxes: number;
  brushStrokes: number;
  undos: number;
};

/** Who changes a mask, as the permission step found them. */
export interface MaskEditor {
  userId: string;
  /** The project's managers (and admins) may change every mask in it. */
  canEditAll: boolean;
  /**
   * The project's reviewers, managers and admins: the only ones who may change or delete a mask a
   * reviewer approved. Defaults to `canEditAll`.
   */
  canReview?: boolean;
}

export interface ManualMaskInput {
  /** Chosen by the client, so that a retried save finds the mask it already made. */
  id: string;
  imageId: string;
  rle: CocoRle;
  predictedIou: number | null;
  stabilityScore: number | null;
  pointCoords: [number, number][];
  prompts: MaskPrompt[];
  label: string;
  timing: MaskTimingInput;
}

export interface MaskChanges {
  id: string;
  version: number;
  label?: string;
  rle?: CocoRle;
  prompts?: MaskPrompt[];
  pointCoords?: [number, number][];
  predictedIou?: number | null;
  stabilityScore?: number | null;
  /** Added to the stored timing (the extra work spent editing). */
  timing?: MaskTimingInput;
}

export interface MaskVersionRef {
  id: string;
  version: number;
}

/** A mask from an automatic pass that no person has claimed: every annotator who sees it may work on it. */
const isAutomatic = (mask: { authorId: string | null; source: MaskSource }) =>
  mask.authorId === null && mask.source !== "manual";

/** Approved in review (as is, or as the reviewer corrected it): what reviewers vouched for. */
export const isApproved = (mask: { reviewDecision: ReviewDecision | null }) =>
  mask.reviewDecision === "approved" || mask.reviewDecision === "corrected";

export const APPROVED_MASK_REFUSAL =
  "this mask was approved in review: only a reviewer or a manager may change or delete it";

/**
 * Annotators change their own masks and the automatic ones (they accept, fix or delete a pass's
 * proposals); other people's manual masks only the project's managers and admins change. A mask a
 * reviewer approved only reviewers, managers and admins change, whoever made it.
 */
function refusal(
  editor: MaskEditor,
  mask: { authorId: string | null; source: MaskSource; reviewDecision: ReviewDecision | null },
): string | null {
  if (isApproved(mask)) return (editor.canReview ?? editor.canEditAll) ? null : APPROVED_MASK_REFUSAL;
  if (editor.canEditAll || mask.authorId === editor.userId || isAutomatic(mask)) return null;
  return "annotators may change only their own masks and those of automatic passes";
}

/**
 * The mask with what a change needs to know, after the rule of who may change it. A refused attempt on
 * an approved mask is recorded in the audit log (`mask.change_refused`) before the refusal is raised.
 */
async function changeableMask(db: PrismaClient, editor: MaskEditor, id: string, attempt: string) {
  // One round trip (on the path of every mask edit): the mask with what its change needs of the image.
  const [row] = await db.$queryRaw<
    {
      id: string;
      imageId: string;
      authorId: string | null;
      source: MaskSource;
      status: MaskStatus;
      version: number;
      reviewDecision: ReviewDecision | null;
      width: number;
      height: number;
      projectId: string;
    }[]
  >`
    SELECT m.id::text AS id, m."imageId"::text AS "imageId", m."authorId"::text AS "authorId",
           m.source::text AS source, m.status::text AS status, m.version,
           m."reviewDecision"::text AS "reviewDecision", i.width, i.height, i."projectId"::text AS "projectId"
    FROM "Mask" m JOIN "Image" i ON i.id = m."imageId"
    WHERE m.id = ${id}::uuid`;
  const mask = row && {
    ...row,
    image: { width: row.width, height: row.height, projectId: row.projectId },
  };
  if (!mask) throw maskNotFound();
  const refused = refusal(editor, mask);
  if (refused) {
    if (refused === APPROVED_MASK_REFUSAL) {
      await audit(db, {
        actorId: editor.userId,
        action: "mask.change_refused",
        targetType: "mask",
        targetId: mask.id,
        projectId: mask.image.projectId,
        details: { attempt, imageId: mask.imageId, reviewDecision: mask.reviewDecision },
      });
    }
    throw new MaskDomainError("FORBIDDEN", refused);
  }
  return mask;
}

/**
 * Adds timing to a mask's: the first work on it creates the row for `userId`; later work (edits, an
 * accept) adds its counts and active time and moves the finish.
 */
async function recordTiming(
  tx: Prisma.TransactionClient,
  maskId: string,
  userId: string,
  timing: MaskTimingInput,
): Promise<void> {
  await tx.maskTiming.upsert({
    where: { maskId },
    create: { maskId, annotatorId: userId, ...timing },
    update: {
      finishedAt: timing.finishedAt,
      activeMs: { increment: timing.activeMs },
      clicks: { increment: timing.clicks },
      boxes: { increment: timing.boxes },
      brushStrokes: { increment: timing.brushStrokes },
      undos: { increment: timing.undos },
    },
  });
}

/**
 * Stores a mask made by hand on the annotation page (source manual, stage assisted_manual, accepted),
 * with its timing. The id comes from the client, so a save retried after a lost response returns the
 * stored mask instead of making a second one; an id already used by someone else's mask is a CONFLICT.
 */
export async function saveManualMask(
  db: PrismaClient,
  author: { userId: string },
  input: ManualMaskInput,
  /** The image, when the caller has just read it (the API's permission step): not read again. */
  known?: { id: string; projectId: string; width: number; height: number },
): Promise<MaskView> {
  const image =
    known?.id === input.imageId
      ? known
      : await db.image.findUnique({
          where: { id: input.imageId },
          select: { id: true, projectId: true, width: true, height: true },
        });
  if (!image) throw new MaskDomainError("NOT_FOUND", "image not found");

  const retried = async (): Promise<MaskView | null> => {
    const existing = await db.mask.findUnique({
      where: { id: input.id },
      select: { authorId: true, imageId: true },
    });
    if (!existing) return null;
    if (existing.authorId !== author.userId || existing.imageId !== input.imageId) {
      throw conflict("a different mask already has this id");
    }
    return maskView(db, input.id);
  };
  // A retried save is found by the primary key when the insert below collides (no read before it: the
  // first attempt, by far the common case, costs no extra round trip).
  const geometry = storedGeometry(input.rle, image);
  // The version whose embedding the page decoded with (an older one while the current is being embedded).
  const modelVersion = (await decodingModelVersions(db, image)).decoding;
  try {
    // As nextLease: hundreds of annotators' saves share a pool of ten connections; a save waits for one
    // rather than failing after Prisma's default two seconds.
    return await db.$transaction(
      async (tx) => {
        await tx.mask.create({
          data: {
            id: input.id,
            imageId: image.id,
            ...geometry,
            predictedIou: input.predictedIou,
            stabilityScore: input.stabilityScore,
            pointCoords: input.pointCoords,
            prompts: input.prompts,
            // SA-1B's crop_box for a mask made on the whole image.
            cropBox: [0, 0, image.width, image.height],
            source: "manual",
            stage: "assisted_manual",
            modelVersionId: modelVersion?.id ?? null,
            authorId: author.userId,
            label: input.label,
            status: "accepted",
          },
          // The answer is read below with its relations; returning the whole row (RLE, prompts) here
          // would only be parsed and dropped.
          select: { id: true },
        });
        await tx.maskTiming.create({
          data: { maskId: input.id, annotatorId: author.userId, ...input.timing },
          select: { id: true },
        });
        await reconcileReviewState(tx, image.id, author.userId);
        return maskView(tx, input.id);
      },
      { maxWait: 15_000, timeout: 15_000 },
    );
  } catch (error) {
    // Two copies of the same save racing: the primary key picks one; the other answers as a retry.
    if (isUniqueViolation(error)) {
      const winner = await retried();
      if (winner) return winner;
    }
    throw error;
  }
}

/**
 * Changes a mask read at `version` (label, pixels, prompts, scores); new pixels get their geometry
 * recomputed. `timing` is added to the stored timing. A deleted mask is changed only by a restore. A
 * rejected mask whose pixels or label change is a fix: it goes back to review (accepted, unreviewed).
 */
export async function updateMask(
  db: PrismaClient,
  editor: MaskEditor,
  input: MaskChanges,
): Promise<MaskView> {
  const mask = await changeableMask(db, editor, input.id, "update");
  const geometry: ({ rle: Prisma.InputJsonObject } & MaskGeometry) | null = input.rle
    ? storedGeometry(input.rle, mask.image)
    : null;
  const { timing } = input;
  const updated = await db.$transaction(async (tx) => {
    const { count } = await tx.mask.updateMany({
      where: { id: input.id, version: input.version, status: { not: "deleted" } },
      data: {
        version: { increment: 1 },
        ...(input.label === undefined ? {} : { label: input.label }),
        ...(input.prompts === undefined ? {} : { prompts: input.prompts }),
        ...(input.pointCoords === undefined ? {} : { pointCoords: input.pointCoords }),
        ...(input.predictedIou === undefined ? {} : { predictedIou: input.predictedIou }),
        ...(input.stabilityScore === undefined ? {} : { stabilityScore: input.stabilityScore }),
        ...(geometry ?? {}),
      },
    });
    if (count === 0) return null;
    if (timing) await recordTiming(tx, input.id, editor.userId, timing);
    // Every status change bumps the version, so when the update above matched the version read here the
    // status is the one read: a mask that was not rejected then needs no second write.
    const mayBeRejected = mask.status === "rejected" || mask.version !== input.version;
    if ((geometry || input.label !== undefined) && mayBeRejected) {
      await tx.mask.updateMany({
        where: { id: input.id, status: "rejected" },
        data: { status: "accepted", reviewDecision: null },
      });
    }
    await reconcileReviewState(tx, mask.imageId, editor.userId);
    return maskView(tx, input.id);
  });
  if (!updated) throw await staleVersion(db, input.id, input.version);
  return updated;
}

/**
 * Moves a mask read at `version` from one of `from` to `to` (version + 1), plus whatever `also` writes
 * in the same transaction. Each move here has one target state that only it produces from `from`, so
 * finding the mask in `to` at `version + 1` means this very request already ran (a retry after a lost
 * answer) and it is answered as done.
 */
async function moveStatus(
  db: PrismaClient,
  editor: MaskEditor,
  input: MaskVersionRef,
  move: {
    from: MaskStatus[];
    to: MaskStatus;
    /** Why the move does not apply to a mask in any other status. */
    refusal: (status: MaskStatus) => string;
    /** Audited with the move (deletes and restores: who removed what matters later). */
    audited?: "mask.deleted" | "mask.restored";
    also?: (tx: Prisma.TransactionClient) => Promise<void>;
  },
): Promise<MaskView> {
  const mask = await changeableMask(db, editor, input.id, move.to === "accepted" ? "accept" : move.to);
  const done = (m: { status: MaskStatus; version: number }) =>
    m.status === move.to && m.version === input.version + 1;
  if (done(mask)) return maskView(db, input.id);
  const moved = await db.$transaction(async (tx) => {
    const { count } = await tx.mask.updateMany({
      where: { id: input.id, version: input.version, status: { in: move.from } },
      data: { status: move.to, version: { increment: 1 } },
    });
    if (count === 0) return false;
    await move.also?.(tx);
    if (move.audited) {
      await audit(tx, {
        actorId: editor.userId,
        action: move.audited,
        targetType: "mask",
        targetId: mask.id,
        projectId: mask.image.projectId,
        details: { imageId: mask.imageId, from: mask.status, version: input.version + 1 },
      });
    }
    await reconcileReviewState(tx, mask.imageId, editor.userId);
    return true;
  });
  if (moved) return maskView(db, input.id);
  const current = await db.mask.findUnique({
    where: { id: input.id },
    select: { status: true, version: true },
  });
  // The retry of this same request, racing the check above.
  if (current && done(current)) return maskView(db, input.id);
  if (current && current.version === input.version) {
    throw conflict(move.refusal(current.status), current.version);
  }
  throw await staleVersion(db, input.id, input.version);
}

const LIVE_STATUSES: MaskStatus[] = ["proposed", "accepted", "rejected"];

/**
 * Soft-deletes a mask read at `version` (status deleted, version + 1; the row stays for statistics and
 * audit). Repeating a delete that already happened from that same version answers with the deleted mask.
 */
export function deleteMask(db: PrismaClient, editor: MaskEditor, input: MaskVersionRef): Promise<MaskView> {
  return moveStatus(db, editor, input, {
    from: LIVE_STATUSES,
    to: "deleted",
    refusal: () => "the mask is already deleted",
    audited: "mask.deleted",
  });
}

/** Undoes a delete: the mask becomes accepted again (a person chose to keep it), version + 1. */
export function restoreMask(db: PrismaClient, editor: MaskEditor, input: MaskVersionRef): Promise<MaskView> {
  return moveStatus(db, editor, input, {
    from: ["deleted"],
    to: "accepted",
    refusal: () => "the mask is not deleted",
    audited: "mask.restored",
    // A rejected mask deleted and brought back is still rejected: the reviewer's word stands.
    also: async (tx) => {
      await tx.mask.updateMany({
        where: { id: input.id, reviewDecision: "rejected" },
        data: { status: "rejected" },
      });
    },
  });
}

/**
 * Accepts a proposal (a semi-automatic pass's mask) read at `version`: it becomes accepted, version + 1,
 * and `timing` (the time spent judging it) is recorded for the editor. Only proposals are accepted.
 */
export function acceptMask(
  db: PrismaClient,
  editor: MaskEditor,
  input: MaskVersionRef & { timing?: MaskTimingInput },
): Promise<MaskView> {
  const { timing } = input;
  return moveStatus(db, editor, input, {
    from: ["proposed"],
    to: "accepted",
    refusal: (status) =>
      status === "deleted" ? "the mask was deleted" : `the mask is ${status}, not a proposal`,
    ...(timing ? { also: (tx) => recordTiming(tx, input.id, editor.userId, timing) } : {}),
  });
}
