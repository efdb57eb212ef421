import {
  addProjectMember,
  createProject,
  projectMembers,
  removeProjectMember,
  setProjectMemberRole,
} from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { text } from "../inputs";
import { protectedProcedure, roleProcedure, router } from "../trpc";
import { withRules } from "./users";

const projectRole = z.enum(["manager", "reviewer", "annotator"]);

export const projectRouter = router({
  /**
   * Projects the caller may see: every project for admins, their memberships for everyone else, each with
   * the caller's role there ("admin" for admins) so pages know what to offer (the audit view's projects).
   */
  list: protectedProcedure.query(async ({ ctx }) => {
    const projects = await ctx.db.project.findMany({
      where: ctx.user.role === "admin" ? {} : { members: { some: { userId: ctx.user.id } } },
      orderBy: { createdAt: "asc" },
      select: {
        id: true,
        name: true,
        description: true,
        _count: { select: { images: true } },
        members: { where: { userId: ctx.user.id }, select: { role: true } },
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
      role: ctx.user.role === "admin" ? ("admin" as const) : (p.members[0]?.role ?? null),
    }));
  }),

  /**
   * A new project (global managers and admins); the creator becomes its first manager member. CONFLICT
   * when the name is taken. Audited as `project.created`.
   */
  create: roleProcedure("admin", "manager")
    .input(
      z.object({
        name: text().trim().min(1, "enter a name").max(120, "the name may have at most 120 characters"),
        description: text().trim().max(2000).default(""),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const project = await withRules(() => createProject(ctx.db, ctx.user, input));
      ctx.log.info({ projectId: project.id, by: ctx.user.id }, "project created");
      return project;
    }),

  /** The project's members (any member may look): managers first, with role and account state. */
  members: projectProcedure("view").query(({ ctx, input }) => projectMembers(ctx.db, input.projectId)),

  /**
   * Adds an active user, by id or email, with a project role (the project's managers and admins).
   * NOT_FOUND for an unknown user, CONFLICT for one already in. Audited as `project.member_added`.
   */
  addMember: projectProcedure("manage")
    .input(
      z
        .object({
          userId: z.uuid().optional(),
          email: z.email("enter a valid email address").optional(),
          role: projectRole,
        })
        .refine((v) => (v.userId === undefined) !== (v.email === undefined), {
          message: "give either userId or email",
        }),
    )
    .mutation(({ ctx, input }) =>
      withRules(() =>
        addProjectMember(
          ctx.db,
          ctx.user,
          input.userId !== undefined
            ? { projectId: input.projectId, role: input.role, userId: input.userId }
            : { projectId: input.projectId, role: input.role, email: input.email ?? "" },
        ),
      ),
    ),

  /**
   * Changes a member's project role. The last manager cannot step down unless an admin does it.
   * Audited as `project.member_role_changed`.
   */
  setMemberRole: projectProcedure("manage")
    .input(z.object({ userId: z.uuid(), role: projectRole }))
    .mutation(({ ctx, input }) =>
      withRules(() =>
        setProjectMemberRole(ctx.db, ctx.user, {
          projectId: input.projectId,
          userId: input.userId,
          role: input.role,
        }),
      ),
    ),

  /**
   * Removes a member and releases their unexpired leases in the project. The last manager stays unless
   * an admin removes them. Audited as `project.member_removed`.
   */
  removeMember: projectProcedure("manage")
    .input(z.object({ userId: z.uuid() }))
    .mutation(({ ctx, input }) =>
      withRules(() =>
        removeProjectMember(ctx.db, ctx.user, { projectId: input.projectId, userId: input.userId }),
      ),
    ),
});
