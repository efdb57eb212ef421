import { activeLeases, completeAssignment, nextLease, projectAssignments, reassignImage } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { assertCanViewImage, projectProcedure } from "../access";
import { protectedProcedure, router } from "../trpc";
import { withRules } from "./users";

/** The annotator's queue: images handed out as time-limited leases (packages/db domain/assignments.ts). */
export const workRouter = router({
  /**
   * The caller's next image in the project: their own unexpired lease (extended), else a fresh lease on
   * the oldest ready image nobody holds and nobody has completed; null when none is left. `skipImageId`
   * is the image on screen: not returned, and its lease kept (the page leases the next image ahead).
   */
  next: projectProcedure("view")
    .input(z.object({ skipImageId: z.uuid().optional() }))
    .mutation(
      ({ ctx, input }): Promise<{ imageId: string; expiresAt: Date } | null> =>
        nextLease(ctx.db, {
          projectId: input.projectId,
          userId: ctx.user.id,
          skipImageId: input.skipImageId ?? null,
        }),
    ),

  /** Marks the caller's work on an image done, so it is not handed to them again. */
  complete: protectedProcedure.input(z.object({ imageId: z.uuid() })).mutation(async ({ ctx, input }) => {
    await assertCanViewImage(ctx.db, ctx.user, input.imageId);
    return completeAssignment(ctx.db, { imageId: input.imageId, userId: ctx.user.id });
  }),

  /** The caller's unexpired leases in the project, oldest first. */
  current: projectProcedure("view").query(({ ctx, input }) =>
    activeLeases(ctx.db, { projectId: input.projectId, userId: ctx.user.id }),
  ),

  /**
   * The managers' view of a project's work: unexpired leases (who holds which image, until when), each
   * member's completed-image count, and images nobody holds or has completed.
   */
  assignments: projectProcedure("manage").query(({ ctx, input }) =>
    projectAssignments(ctx.db, { projectId: input.projectId }),
  ),

  /**
   * Hands an image to a member of its project (`userId`), or back to the pool (`userId: null`): the
   * current holder's lease ends as `released`. The project's managers and admins only; audited as
   * `assignment.reassigned`.
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
});
