import type { ImageStatus } from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { router } from "../trpc";

const statuses = ["uploaded", "embedding", "ready", "failed"] as const satisfies readonly ImageStatus[];

export const imageRouter = router({
  /** A project's name and its images counted by status, plus what the caller may do there. */
  counts: projectProcedure("view").query(async ({ ctx, input }) => {
    const [project, groups] = await Promise.all([
      ctx.db.project.findUniqueOrThrow({
        where: { id: input.projectId },
        select: { id: true, name: true, description: true },
      }),
      ctx.db.image.groupBy({
        by: ["status"],
        where: { projectId: input.projectId },
        _count: { _all: true },
      }),
    ]);
    const byStatus = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<ImageStatus, number>;
    for (const group of groups) byStatus[group.status] = group._count._all;
    return {
      project,
      counts: { ...byStatus, total: groups.reduce((sum, g) => sum + g._count._all, 0) },
      role: ctx.access.role,
      canUpload: ctx.access.canManage,
    };
  }),

  /** A page of a project's images, oldest first; pass the returned `nextCursor` for the next page. */
  listByProject: projectProcedure("view")
    .input(
      z.object({
        cursor: z.uuid().nullish(),
        limit: z.number().int().min(1).max(200).default(60),
      }),
    )
    .query(async ({ ctx, input }) => {
      const rows = await ctx.db.image.findMany({
        where: { projectId: input.projectId },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        // One extra row says whether another page exists.
        take: input.limit + 1,
        ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
        select: { id: true, filename: true, width: true, height: true, status: true, error: true },
      });
      const items = rows.slice(0, input.limit);
      return { items, nextCursor: rows.length > input.limit ? (items.at(-1)?.id ?? null) : null };
    }),
});
