import {
  type ImageStatus,
  imageTable,
  liveAssignmentWhere,
  REVIEW_OUTCOMES,
  TABLE_SORTS,
  WORKFLOW_STATES,
  workflowCounts,
} from "@sas/db";
import { z } from "zod";
import { projectProcedure, visibleImagesWhere } from "../access";
import { assertCanReview } from "../services/review";
import { router } from "../trpc";

const statuses = ["uploaded", "embedding", "ready", "failed"] as const satisfies readonly ImageStatus[];

export const imageRouter = router({
  /**
   * A project's name and the images the caller may see counted by status (an annotator's own images only),
   * plus what the caller may do there. `workAvailable`: whether work.next has an image for the caller now
   * (their own live assignment, or a ready image still open in the workflow that nobody holds), so a page can offer
   * "Start annotating" to an annotator who has no image yet, without telling them how many there are.
   */
  counts: projectProcedure("view").query(async ({ ctx, input }) => {
    const now = new Date();
    const [project, groups, work] = await Promise.all([
      ctx.db.project.findUniqueOrThrow({
        where: { id: input.projectId },
        select: { id: true, name: true, description: true },
      }),
      ctx.db.image.groupBy({
        by: ["status"],
        where: visibleImagesWhere(ctx.access, ctx.user),
        _count: { _all: true },
      }),
      // The same candidates as nextLease (packages/db domain/assignments.ts).
      ctx.db.image.findFirst({
        where: {
          projectId: input.projectId,
          status: "ready",
          OR: [
            { assignments: { some: { userId: ctx.user.id, ...liveAssignmentWhere(now) } } },
            {
              workflowState: { in: ["new", "in_progress"] },
              assignments: { none: liveAssignmentWhere(now) },
            },
          ],
        },
        select: { id: true },
      }),
    ]);
    const byStatus = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<ImageStatus, number>;
    for (const group of groups) byStatus[group.status] = group._count._all;
    return {
      project,
      counts: { ...byStatus, total: groups.reduce((sum, g) => sum + g._count._all, 0) },
      role: ctx.access.role,
      canUpload: ctx.access.canManage,
      workAvailable: work !== null,
    };
  }),

  /**
   * A page of the project's images the caller may see (an annotator's own images only), oldest first;
   * pass the returned `nextCursor` for the next page.
   */
  listByProject: projectProcedure("view")
    .input(
      z.object({
        cursor: z.uuid().nullish(),
        limit: z.number().int().min(1).max(200).default(60),
      }),
    )
    .query(async ({ ctx, input }) => {
      const rows = await ctx.db.image.findMany({
        where: visibleImagesWhere(ctx.access, ctx.user),
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        // One extra row says whether another page exists.
        take: input.limit + 1,
        ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
        select: {
          id: true,
          filename: true,
          width: true,
          height: true,
          status: true,
          error: true,
          workflowState: true,
        },
      });
      const items = rows.slice(0, input.limit);
      return { items, nextCursor: rows.length > input.limit ? (items.at(-1)?.id ?? null) : null };
    }),

  /**
   * The project image table for its managers and reviewers (and admins): a keyset page of images with
   * workflow state, annotator, mask count and time spent, filtered and sorted on the server (usable at
   * 100k images), the total matching the filters, and the project's images counted by state.
   */
  table: projectProcedure("view")
    .use(({ ctx, next }) => {
      assertCanReview(ctx.access);
      return next();
    })
    .input(
      z.object({
        states: z.array(z.enum(WORKFLOW_STATES)).max(WORKFLOW_STATES.length).default([]),
        annotatorId: z.union([z.uuid(), z.literal("none")]).nullish(),
        hasMasks: z.boolean().nullish(),
        reviewOutcome: z.enum(REVIEW_OUTCOMES).nullish(),
        label: z.string().trim().max(200).nullish(),
        sort: z.enum(TABLE_SORTS).default("created"),
        direction: z.enum(["asc", "desc"]).default("asc"),
        cursor: z.string().max(1000).nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(async ({ ctx, input }) => {
      const [page, stateCounts] = await Promise.all([
        imageTable(ctx.db, input),
        workflowCounts(ctx.db, input.projectId),
      ]);
      return { ...page, stateCounts };
    }),
});
