import { activeLeases, completeAssignment, nextLease } from "@sas/db";
import { z } from "zod";
import { assertCanViewImage, projectProcedure } from "../access";
import { protectedProcedure, router } from "../trpc";

/** The annotator's queue: images handed out as time-limited leases (packages/db domain/assignments.ts). */
export const workRouter = router({
  /**
   * The caller's next image in the project: their own unexpired lease (extended), else a fresh lease on
   * the oldest ready image nobody holds and the caller has not completed; null when none is left.
   * `skipImageId` is the image being left: the caller's lease on it is released and it is not returned.
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
});
