import { protectedProcedure, router } from "../trpc";

export const projectRouter = router({
  /** Projects the caller may see: every project for admins, their memberships for everyone else. */
  list: protectedProcedure.query(async ({ ctx }) => {
    const projects = await ctx.db.project.findMany({
      where: ctx.user.role === "admin" ? {} : { members: { some: { userId: ctx.user.id } } },
      orderBy: { createdAt: "asc" },
      select: {
        id: true,
        name: true,
        description: true,
        _count: { select: { images: true } },
      },
    });
    const ready = await ctx.db.image.groupBy({
      by: ["projectId"],
      where: { projectId: { in: projects.map((p) => p.id) }, status: "ready" },
      _count: { _all: true },
    });
    const readyBy = new Map(ready.map((r) => [r.projectId, r._count._all]));
    return projects.map((p) => ({
      id: p.id,
      name: p.name,
      description: p.description,
      images: p._count.images,
      readyImages: readyBy.get(p.id) ?? 0,
    }));
  }),
});
