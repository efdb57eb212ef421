import type { SessionUser } from "@sas/auth";
import {
  type AssignmentStatus,
  type ImageStatus,
  Prisma,
  type PrismaClient,
  type ProjectRole,
} from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { protectedProcedure } from "./trpc";

/**
 * Who may see what (docs: /work/shared/ARCHITECTURE.md, "Roles"). One place decides it, and every
 * procedure and binary route goes through the helpers below:
 *
 * - Global admins see and may do everything, member or not.
 * - Everyone else acts through their ProjectMember row. Someone outside a project gets NOT_FOUND, exactly
 *   as for a project that does not exist, so ids cannot be probed; a member lacking a right gets FORBIDDEN.
 * - A project's managers and reviewers see every image of the project, and every mask on them.
 * - A project's annotators see only the images assigned to them (see `assignedToWhere`): an image of
 *   their project that is not theirs is NOT_FOUND, as if it did not exist. Listings and counts hold only
 *   their images. `work.next` keeps working: it is a project-level call, and the lease it writes is what
 *   makes the image theirs.
 */
export type ProjectAccessLevel = "view" | "manage";

export interface ProjectAccess {
  projectId: string;
  /** "admin" for global admins (member or not), else the member's project role. */
  role: "admin" | ProjectRole;
  canManage: boolean;
  /** Every image of the project (admins, managers, reviewers), or only the caller's own (annotators). */
  seesAllImages: boolean;
}

type Caller = Pick<SessionUser, "id" | "role">;

const notFound = (what: string) => new TRPCError({ code: "NOT_FOUND", message: `${what} not found` });

/**
 * The assignment states that make an image an annotator's: the lease they hold (`active`, also past its
 * expiry until another annotator takes the image over or the sweep marks it `expired`, so an image does
 * not vanish from under someone who paused) and work they finished (`completed`). A lease given back
 * (`released`) or lost (`expired`) does not count.
 */
export const VISIBLE_ASSIGNMENT_STATUSES = [
  "active",
  "completed",
] as const satisfies readonly AssignmentStatus[];

/**
 * Images assigned to a user, as a Prisma filter: an assignment in one of VISIBLE_ASSIGNMENT_STATUSES, or
 * any mask they authored on the image (in any status, deleted included, so they can still restore it):
 * their own work never disappears from their view.
 */
export function assignedToWhere(userId: string): Prisma.ImageWhereInput {
  return {
    OR: [
      { assignments: { some: { userId, status: { in: [...VISIBLE_ASSIGNMENT_STATUSES] } } } },
      { masks: { some: { authorId: userId } } },
    ],
  };
}

/** The images of the project the caller may see, as a Prisma filter (for listings and counts). */
export function visibleImagesWhere(access: ProjectAccess, user: Pick<Caller, "id">): Prisma.ImageWhereInput {
  return access.seesAllImages
    ? { projectId: access.projectId }
    : { projectId: access.projectId, ...assignedToWhere(user.id) };
}

export async function projectAccess(
  db: PrismaClient,
  user: Caller,
  projectId: string,
): Promise<ProjectAccess> {
  // One round trip (every project-scoped call starts here, "next image" included): the project, with the
  // caller's membership when there is one.
  const [project] = await db.$queryRaw<{ memberRole: ProjectRole | null }[]>`
    SELECT m.role::text AS "memberRole"
    FROM "Project" p
    LEFT JOIN "ProjectMember" m ON m."projectId" = p.id AND m."userId" = ${user.id}::uuid
    WHERE p.id = ${projectId}::uuid`;
  if (!project) throw notFound("project");
  const access = accessOf(user, projectId, project.memberRole);
  if (!access) throw notFound("project");
  return access;
}

/** Admins and every member of the project (what each sees inside it: see `visibleImagesWhere`). */
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

/** Whether the image is assigned to the user (see `assignedToWhere`). */
export async function isAssignedTo(db: PrismaClient, imageId: string, userId: string): Promise<boolean> {
  return (await db.image.count({ where: { id: imageId, ...assignedToWhere(userId) } })) > 0;
}

/** What the image-level helpers return about the image itself. */
export interface ViewedImage {
  id: string;
  projectId: string;
  projectName: string;
  filename: string;
  width: number;
  height: number;
  status: ImageStatus;
  mimeType: string;
  sizeBytes: bigint;
  sha256: string;
  storageKey: string;
}

interface ImageAccessRow extends ViewedImage {
  memberRole: ProjectRole | null;
  assigned: boolean;
}

/**
 * The image (or, with `maskId`, the image of that mask), the caller's role in its project and, for an
 * annotator, whether the image is theirs (`assignedToWhere`, as SQL): one round trip for what took three
 * (image, membership, assignment), on the path of every annotation call.
 */
async function imageAccessRow(
  db: PrismaClient,
  userId: string,
  by: { imageId: string } | { maskId: string },
): Promise<ImageAccessRow | null> {
  const target =
    "maskId" in by
      ? Prisma.sql`i.id = (SELECT k."imageId" FROM "Mask" k WHERE k.id = ${by.maskId}::uuid)`
      : Prisma.sql`i.id = ${by.imageId}::uuid`;
  const [row] = await db.$queryRaw<ImageAccessRow[]>`
    SELECT i.id::text AS id, i."projectId"::text AS "projectId", p.name AS "projectName", i.filename,
           i.width, i.height, i.status::text AS status, i."mimeType", i."sizeBytes", i.sha256,
           i."storageKey", m.role::text AS "memberRole",
           (m.role = 'annotator' AND (
              EXISTS (SELECT 1 FROM "Assignment" a
                      WHERE a."imageId" = i.id AND a."userId" = ${userId}::uuid
                        AND a.status IN ('active', 'completed'))
              OR EXISTS (SELECT 1 FROM "Mask" k WHERE k."imageId" = i.id AND k."authorId" = ${userId}::uuid)
           )) AS assigned
    FROM "Image" i
    JOIN "Project" p ON p.id = i."projectId"
    LEFT JOIN "ProjectMember" m ON m."projectId" = i."projectId" AND m."userId" = ${userId}::uuid
    WHERE ${target}`;
  return row ?? null;
}

function accessOf(user: Caller, projectId: string, memberRole: ProjectRole | null): ProjectAccess | null {
  if (user.role === "admin") return { projectId, role: "admin", canManage: true, seesAllImages: true };
  if (!memberRole) return null;
  return {
    projectId,
    role: memberRole,
    canManage: memberRole === "manager",
    seesAllImages: memberRole !== "annotator",
  };
}

/**
 * An image together with the access its project grants. NOT_FOUND when the project would be, and for an
 * annotator when the image is not assigned to them: its masks, file and embedding follow the image.
 */
export async function assertCanViewImage(
  db: PrismaClient,
  user: Caller,
  imageId: string,
): Promise<{ image: ViewedImage; access: ProjectAccess }> {
  return viewable(user, await imageAccessRow(db, user.id, { imageId }), () => notFound("image"));
}

/**
 * A mask's image together with the access its project grants the caller. Someone who may not see the
 * image learns nothing about its masks: NOT_FOUND, exactly as for an id that does not exist.
 */
export async function assertCanViewMaskImage(
  db: PrismaClient,
  user: Caller,
  maskId: string,
): Promise<{ image: ViewedImage; access: ProjectAccess }> {
  return viewable(user, await imageAccessRow(db, user.id, { maskId }), () => notFound("mask"));
}

function viewable(user: Caller, row: ImageAccessRow | null, missing: () => TRPCError) {
  if (!row) throw missing();
  const { memberRole, assigned, ...image } = row;
  const access = accessOf(user, image.projectId, memberRole);
  // An admin sees everything; a member sees the image when their role sees all, or when it is theirs.
  if (!access || (!access.seesAllImages && !assigned)) throw missing();
  return { image, access };
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
