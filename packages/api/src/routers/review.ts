import { type MaskView, reviewMask, reviewQueue } from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { announcedProcedure } from "../announced";
import { rleInput, text } from "../inputs";
import { assertCanViewMask } from "../services/masks";
import { assertCanReview, GOOD_MASK_IOU } from "../services/review";
import { router } from "../trpc";

const decisionInput = z.discriminatedUnion("decision", [
  z.object({ decision: z.literal("approved"), reason: text().trim().max(1000).default("") }),
  z.object({
    decision: z.literal("rejected"),
    reason: text().trim().min(1, "say why the mask is rejected").max(1000),
  }),
  z.object({
    decision: z.literal("corrected"),
    reason: text().trim().max(1000).default(""),
    rle: rleInput,
  }),
]);

/**
 * A review of one mask (input `maskId`). Permission: the caller sees the mask's image (NOT_FOUND
 * otherwise, as for a missing id) and reviews in its project (managers, reviewers, admins).
 */
const maskReview = announcedProcedure("reviewed")
  .input(z.object({ maskId: z.uuid() }))
  .use(async ({ ctx, input, next }) => {
    const { access } = await assertCanViewMask(ctx.db, ctx.user, input.maskId);
    assertCanReview(access);
    return next();
  });

export const reviewRouter = router({
  /**
   * A reviewer's decision on a mask read at `version`: approve, reject (with a reason) or correct (a new
   * RLE). A correction keeps the original in the review row with IoU(original, corrected). Optimistic
   * concurrency as for edits: a stale version is a CONFLICT and nothing is written.
   */
  decide: maskReview
    .input(z.object({ version: z.number().int().min(1) }).and(decisionInput))
    .mutation(({ ctx, input }): Promise<MaskView> => reviewMask(ctx.db, { userId: ctx.user.id }, input)),

  /**
   * The review queue: images of the project handed in for review (submitted, in review, needs changes)
   * with masks nobody has reviewed yet, oldest first (see reviewQueue).
   */
  queue: projectProcedure("view")
    .input(z.object({ limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ ctx, input }) => {
      assertCanReview(ctx.access);
      return reviewQueue(ctx.db, { projectId: input.projectId, limit: input.limit });
    }),

  /**
   * Review outcomes in a project: decisions counted, and for corrections the distribution of
   * IoU(original, corrected) and the share above 0.9 (the SA-1B paper's mask-quality measure).
   */
  stats: projectProcedure("view").query(async ({ ctx, input }) => {
    assertCanReview(ctx.access);
    const [decisions, corrections] = await Promise.all([
      ctx.db.mask.groupBy({
        by: ["reviewDecision"],
        where: { image: { projectId: input.projectId }, status: { not: "deleted" } },
        _count: { _all: true },
      }),
      ctx.db.maskReview.findMany({
        where: { decision: "corrected", mask: { image: { projectId: input.projectId } } },
        select: { iou: true },
      }),
    ]);
    const count = (d: string | null) => decisions.find((g) => g.reviewDecision === d)?._count._all ?? 0;
    const ious = corrections.map((c) => c.iou ?? 0);
    const histogram = Array.from({ length: 10 }, (_, i) => ({
      from: i / 10,
      to: (i + 1) / 10,
      count: ious.filter((v) => (i === 9 ? v >= 0.9 : v >= i / 10 && v < (i + 1) / 10)).length,
    }));
    return {
      unreviewed: count(null),
      approved: count("approved"),
      rejected: count("rejected"),
      corrected: count("corrected"),
      corrections: ious.length,
      meanCorrectionIou: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : null,
      shareAboveGoodIou: ious.length ? ious.filter((v) => v > GOOD_MASK_IOU).length / ious.length : null,
      histogram,
    };
  }),
});
