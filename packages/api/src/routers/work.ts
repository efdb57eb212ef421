import {
  activeLeases,
  imageWorkflow,
  type Lease,
  needsChanges,
  nextLease,
  projectAssignments,
  reassignImage,
  reopenImages,
  skipImage,
  submitImage,
} from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { assertCanViewImage, projectProcedure } from "../access";
import { canReview } from "../services/review";
import { protectedProcedure, router } from "../trpc";
import { withRules } from "./users";

/**
 * Work on one image (input `imageId`). Permission: the caller sees the image (NOT_FOUND otherwise, as for
 * a missing id: an annotator's own images only); the workflow domain then lets annotators move only the
 * images they hold or worked on, managers any.
 */
const imageWork = protectedProcedure
  .input(z.object({ imageId: z.uuid() }))
  .use(async ({ ctx, input, next }) => {
    const { image, access } = await assertCanViewImage(ctx.db, ctx.user, input.imageId);
    return next({
      ctx: { ...ctx, image, access, actor: { userId: ctx.user.id, canManage: access.canManage } },
    });
  });

/** Bulk actions name up to this many images at once (a table page or a selection of one). */
const MAX_BULK = 500;
const imageIds = z.array(z.uuid()).min(1, "select at least one image").max(MAX_BULK);

/**
 * The annotator's queue (leases, packages/db domain/assignments.ts) and the image workflow (new → in
 * progress → submitted → in review → done, needs changes, skipped: domain/workflow.ts).
 */
export const workRouter = router({
  /**
   * The caller's next image in the project: their own live assignment, else a fresh lease on the oldest
   * ready image still open in the workflow; null when none is left. `skipImageId` is the image on screen:
   * not returned, and its lease kept (the page leases the next image ahead). Moving on never submits.
   */
  next: projectProcedure("view")
    .input(z.object({ skipImageId: z.uuid().optional() }))
    .mutation(
      ({ ctx, input }): Promise<Lease | null> =>
        nextLease(ctx.db, {
          projectId: input.projectId,
          userId: ctx.user.id,
          skipImageId: input.skipImageId ?? null,
        }),
    ),

  /** The image's workflow state, and what the caller may do with it (the annotation screen's bar). */
  state: imageWork.query(async ({ ctx, input }) => ({
    ...(await imageWorkflow(ctx.db, input.imageId, ctx.actor)),
    projectId: ctx.image.projectId,
    canManage: ctx.access.canManage,
    canReview: canReview(ctx.access),
  })),

  /**
   * Hands the image in for review. An image with no mask needs `confirmEmpty` (the annotator's "nothing
   * to label"); rejected masks must be fixed first. Audited as `image.submitted`.
   */
  submit: imageWork
    .input(z.object({ confirmEmpty: z.boolean().default(false) }))
    .mutation(({ ctx, input }) =>
      submitImage(ctx.db, ctx.actor, { imageId: input.imageId, confirmEmpty: input.confirmEmpty }),
    ),

  /** Sets the image aside with a reason; a manager can reopen it. Audited as `image.skipped`. */
  skip: imageWork
    .input(z.object({ reason: z.string().trim().min(1, "say why the image is skipped").max(500) }))
    .mutation(({ ctx, input }) =>
      skipImage(ctx.db, ctx.actor, { imageId: input.imageId, reason: input.reason }),
    ),

  /** The caller's live assignments in the project, oldest first. */
  current: projectProcedure("view").query(({ ctx, input }) =>
    activeLeases(ctx.db, { projectId: input.projectId, userId: ctx.user.id }),
  ),

  /** The caller's masks a reviewer rejected in the project, with the reasons: their "needs changes" list. */
  needsChanges: projectProcedure("view").query(({ ctx, input }) =>
    needsChanges(ctx.db, { userId: ctx.user.id, projectId: input.projectId }),
  ),

  /**
   * The managers' view of a project's work: live assignments (who holds which image, until when or until
   * released), each member's completed-image count, and open images nobody holds.
   */
  assignments: projectProcedure("manage").query(({ ctx, input }) =>
    projectAssignments(ctx.db, { projectId: input.projectId }),
  ),

  /**
   * Hands an image to a member of its project (`userId`), or back to the pool (`userId: null`): the
   * current holder's assignment ends as `released`. A manager's assignment does not expire. The
   * project's managers and admins only; audited as `assignment.reassigned`.
   */
  reassign: protectedProcedure
    .input(z.object({ imageId: z.uuid(), userId: z.uuid().nullable() }))
    .mutation(async ({ ctx, input }) => {
      const { access } = await assertCanViewImage(ctx.db, ctx.user, input.imageId);
      if (!access.canManage) {
        throw new TRPCError({ code: "FORBIDDEN", message: "only the project's managers may do this" });
      }
      const result = await withRules(() =>
        reassignImage(ctx.db, { imageId: input.imageId, userId: input.userId, actorId: ctx.user.id }),
      );
      ctx.log.info(
        { imageId: input.imageId, from: result.releasedFrom, to: input.userId, by: ctx.user.id },
        "image reassigned",
      );
      return result;
    }),

  /**
   * The image table's bulk assign: hands each selected image of the project to a member (or back to the
   * pool with `userId: null`), one audited reassignment per image. Images of another project: NOT_FOUND.
   */
  bulkAssign: projectProcedure("manage")
    .input(z.object({ imageIds, userId: z.uuid().nullable() }))
    .mutation(async ({ ctx, input }) => {
      let assigned = 0;
      for (const imageId of [...new Set(input.imageIds)]) {
        await withRules(() =>
          reassignImage(ctx.db, {
            imageId,
            projectId: input.projectId,
            userId: input.userId,
            actorId: ctx.user.id,
          }),
        );
        assigned++;
      }
      return { assigned };
    }),

  /**
   * Managers send images back to the pool (`new`), whatever their state: skipped, submitted or done.
   * Audited as `image.reopened`, one entry per image.
   */
  reopen: projectProcedure("manage")
    .input(z.object({ imageIds }))
    .mutation(({ ctx, input }) =>
      reopenImages(ctx.db, { userId: ctx.user.id }, { projectId: input.projectId, imageIds: input.imageIds }),
    ),
});
