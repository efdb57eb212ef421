import { type CocoRle, rleIoU } from "@sas/sa1b";
import type { Prisma, PrismaClient } from "../../generated/prisma/client";
import { audit } from "../audit";
import { reconcileReviewState } from "../workflow";
import { staleVersion } from "./conflicts";
import { MaskDomainError, maskNotFound } from "./errors";
import { storedGeometry } from "./geometry";
import { type MaskView, maskView, storedRleSchema } from "./view";

export type MaskReviewInput = { maskId: string; version: number; reason: string } & (
  | { decision: "approved" }
  | { decision: "rejected" }
  | { decision: "corrected"; rle: CocoRle }
);

/**
 * A reviewer's decision on a mask read at `version`: approve, reject or correct (new pixels). A
 * correction keeps the original RLE in the review row with IoU(original, corrected), the SA-1B paper's
 * measure of how good the mask already was. Optimistic concurrency as for edits: a stale version is a
 * CONFLICT and nothing is written. Whether the caller may review is the API's rule, checked before.
 */
export async function reviewMask(
  db: PrismaClient,
  reviewer: { userId: string },
  input: MaskReviewInput,
): Promise<MaskView> {
  const mask = await db.mask.findUnique({
    where: { id: input.maskId },
    select: {
      id: true,
      imageId: true,
      rle: true,
      status: true,
      image: { select: { projectId: true, width: true, height: true } },
    },
  });
  if (!mask) throw maskNotFound();
  if (mask.status === "deleted") throw new MaskDomainError("CONFLICT", "the mask was deleted");

  let corrected: { data: Prisma.MaskUpdateManyMutationInput; iou: number } | null = null;
  if (input.decision === "corrected") {
    const geometry = storedGeometry(input.rle, mask.image);
    corrected = { data: geometry, iou: rleIoU(storedRleSchema.parse(mask.rle), input.rle) };
  }
  const updated = await db.$transaction(async (tx) => {
    const { count } = await tx.mask.updateMany({
      where: { id: mask.id, version: input.version, status: { not: "deleted" } },
      data: {
        ...corrected?.data,
        status: input.decision === "rejected" ? "rejected" : "accepted",
        reviewDecision: input.decision,
        version: { increment: 1 },
      },
    });
    if (count === 0) return null;
    await tx.maskReview.create({
      data: {
        maskId: mask.id,
        reviewerId: reviewer.userId,
        decision: input.decision,
        reason: input.reason,
        ...(corrected ? { originalRle: mask.rle as Prisma.InputJsonValue, iou: corrected.iou } : {}),
      },
    });
    await audit(tx, {
      actorId: reviewer.userId,
      action: "mask.reviewed",
      targetType: "mask",
      targetId: mask.id,
      projectId: mask.image.projectId,
      details: {
        decision: input.decision,
        imageId: mask.imageId,
        ...(input.reason ? { reason: input.reason } : {}),
        ...(corrected ? { iou: corrected.iou } : {}),
      },
    });
    // A rejection sends the image back to its annotator; the last approval finishes it.
    await reconcileReviewState(tx, mask.imageId, reviewer.userId);
    return maskView(tx, mask.id);
  });
  if (!updated) throw await staleVersion(db, mask.id, input.version);
  return updated;
}
