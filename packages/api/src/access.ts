import type { SessionUser } from "@sas/auth";
import type { PrismaClient, ProjectRole } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { protectedProcedure } from "./trpc";

/**
 * Who may do what in a project. Global admins may do everything; everyone else acts through their
 * ProjectMember row. Someone outside a project gets NOT_FOUND, exactly as for a project that does not
 * exist, so ids cannot be probed; a member lacking the right gets FORBIDDEN.
 */
export type ProjectAccessLevel = "view" | "manage";

export interface ProjectAccess {
  projectId: string;
  /** "admin" for global admins (member or not), else the member's project role. */
  role: "admin" | ProjectRole;
  canManage: boolean;
}

type Caller = Pick<SessionUser, "id" | "role">;

const notFound = (what: string) => new TRPCError({ code: "NOT_FOUND", message: `${what} not found` });

export async function projectAccess(
  db: PrismaClient,
  user: Caller,
  projectId: string,
): Promise<ProjectAccess> {
  const project = await db.project.findUnique({
    where: { id: projectId },
    select: { members: { where: { userId: user.id }, select: { role: true } } },
  });
  if (!project) throw notFound("project");
  if (user.role === "admin") return { projectId, role: "admin", canManage: true };
  const membership = project.members[0];
  if (!membership) throw notFound("project");
  return { projectId, role: membership.role, canManage: membership.role === "manager" };
}

/** Admins and every member of the project. */
export function assertCanViewProject(
  db: PrismaClient,
  user: Caller,
  projectId: string,
): Promise<ProjectAccess> {
  return projectAccess(db, user, projectId);
}

/** Admins and the project's managers: upload, import, settings. */
export async function assertCanManageProject(
  db: PrismaClient,
  user: Caller,
  projectId: string,
): Promise<ProjectAccess> {
  const access = await projectAccess(db, user, projectId);
  if (!access.canManage) {
    throw new TRPCError({ code: "FORBIDDEN", message: "only the project's managers may do this" });
  }
  return access;
}

export const assertProjectAccess = (
  db: PrismaClient,
  user: Caller,
  projectId: string,
  level: ProjectAccessLevel,
) =>
  level === "manage"
    ? assertCanManageProject(db, user, projectId)
    : assertCanViewProject(db, user, projectId);

/** An image together with the access its project grants; NOT_FOUND when the project would be. */
export async function assertCanViewImage(db: PrismaClient, user: Caller, imageId: string) {
  const image = await db.image.findUnique({
    where: { id: imageId },
    select: {
      id: true,
      projectId: true,
      filename: true,
      width: true,
      height: true,
      status: true,
      mimeType: true,
      sizeBytes: true,
      sha256: true,
      storageKey: true,
    },
  });
  if (!image) throw notFound("image");
  try {
    const access = await assertCanViewProject(db, user, image.projectId);
    return { image, access };
  } catch (error) {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") throw notFound("image");
    throw error;
  }
}

/**
 * A procedure scoped to one project: its input carries `projectId`, and the caller's access is checked
 * before the handler runs and handed to it as `ctx.access`, so handlers never check by hand.
 */
export const projectProcedure = (level: ProjectAccessLevel) =>
  protectedProcedure.input(z.object({ projectId: z.uuid() })).use(async ({ ctx, input, next }) => {
    const access = await assertProjectAccess(ctx.db, ctx.user, input.projectId, level);
    return next({ ctx: { ...ctx, access } });
  });
