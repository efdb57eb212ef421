import type { Prisma, PrismaClient, ProjectRole, Role } from "../generated/prisma/client";
import { audit } from "./audit";
import { isUniqueViolation, RuleViolation } from "./users";

type Tx = Prisma.TransactionClient;

/** Who is changing a project, and whether they act as a global admin (exempt from the manager rule). */
export interface ProjectActor {
  id: string;
  role: Role;
}

export interface NewProject {
  name: string;
  description: string;
}

/**
 * Creates a project with its creator as its first manager member, and audits `project.created`, all in
 * one transaction. A name already taken is a CONFLICT.
 */
export async function createProject(
  db: PrismaClient,
  actor: ProjectActor,
  input: NewProject,
): Promise<{ id: string; name: string; description: string; createdAt: Date }> {
  try {
    return await db.$transaction(async (tx) => {
      const project = await tx.project.create({
        data: { name: input.name, description: input.description, createdById: actor.id },
        select: { id: true, name: true, description: true, createdAt: true },
      });
      await tx.projectMember.create({ data: { projectId: project.id, userId: actor.id, role: "manager" } });
      await audit(tx, {
        actorId: actor.id,
        action: "project.created",
        targetType: "project",
        targetId: project.id,
        projectId: project.id,
        details: { name: project.name, description: project.description, creatorRole: "manager" },
      });
      return project;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new RuleViolation("CONFLICT", `a project named "${input.name}" already exists`);
    }
    throw error;
  }
}

export interface ProjectMemberRow {
  userId: string;
  name: string;
  email: string;
  role: ProjectRole;
  /** False when the user's account is deactivated (they keep the row but cannot sign in). */
  active: boolean;
  joinedAt: Date;
}

const roleOrder: Record<ProjectRole, number> = { manager: 0, reviewer: 1, annotator: 2 };

/** A project's members: managers first, then reviewers, then annotators, each by name. */
export async function projectMembers(db: PrismaClient, projectId: string): Promise<ProjectMemberRow[]> {
  const rows = await db.projectMember.findMany({
    where: { projectId },
    select: {
      role: true,
      createdAt: true,
      user: { select: { id: true, name: true, email: true, active: true } },
    },
  });
  return rows
    .map((r) => ({
      userId: r.user.id,
      name: r.user.name,
      email: r.user.email,
      role: r.role,
      active: r.user.active,
      joinedAt: r.createdAt,
    }))
    .sort((a, b) => roleOrder[a.role] - roleOrder[b.role] || a.name.localeCompare(b.name));
}

/**
 * Locks the project row for the rest of the transaction: membership changes of one project run one at a
 * time, so two managers demoting each other cannot both see "another manager is left".
 */
async function lockProject(tx: Tx, projectId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM "Project" WHERE id = ${projectId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new RuleViolation("NOT_FOUND", "project not found");
}

async function lockedMember(tx: Tx, projectId: string, userId: string) {
  await lockProject(tx, projectId);
  const member = await tx.projectMember.findUnique({
    where: { projectId_userId: { projectId, userId } },
    select: { role: true, user: { select: { email: true } } },
  });
  if (!member) throw new RuleViolation("NOT_FOUND", "that user is not a member of this project");
  return member;
}

/** A project keeps at least one manager member, unless a global admin is the one acting. */
async function assertAnotherManager(tx: Tx, actor: ProjectActor, projectId: string, userId: string) {
  if (actor.role === "admin") return;
  const others = await tx.projectMember.count({
    where: { projectId, role: "manager", userId: { not: userId } },
  });
  if (others === 0) {
    throw new RuleViolation(
      "BAD_REQUEST",
      "a project needs at least one manager; make someone else manager first",
    );
  }
}

export type MemberRef = { userId: string; email?: undefined } | { email: string; userId?: undefined };

/**
 * Adds an existing, active user (by id or email) to a project with a role; audits
 * `project.member_added`. NOT_FOUND for an unknown user, CONFLICT when they already belong to it.
 */
export async function addProjectMember(
  db: PrismaClient,
  actor: ProjectActor,
  input: { projectId: string; role: ProjectRole } & MemberRef,
): Promise<ProjectMemberRow> {
  return db.$transaction(async (tx) => {
    await lockProject(tx, input.projectId);
    const user = await tx.user.findUnique({
      where: input.userId ? { id: input.userId } : { email: (input.email ?? "").trim().toLowerCase() },
      select: { id: true, name: true, email: true, active: true },
    });
    if (!user) {
      throw new RuleViolation(
        "NOT_FOUND",
        input.email ? `no user has the email ${input.email.trim()}` : "user not found",
      );
    }
    if (!user.active) throw new RuleViolation("BAD_REQUEST", `${user.email} is deactivated`);
    const existing = await tx.projectMember.findUnique({
      where: { projectId_userId: { projectId: input.projectId, userId: user.id } },
      select: { role: true },
    });
    if (existing) {
      throw new RuleViolation(
        "CONFLICT",
        `${user.email} is already a member of this project (${existing.role})`,
      );
    }
    const member = await tx.projectMember.create({
      data: { projectId: input.projectId, userId: user.id, role: input.role },
      select: { role: true, createdAt: true },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "project.member_added",
      targetType: "user",
      targetId: user.id,
      projectId: input.projectId,
      details: { email: user.email, after: { role: input.role } },
    });
    return {
      userId: user.id,
      name: user.name,
      email: user.email,
      role: member.role,
      active: user.active,
      joinedAt: member.createdAt,
    };
  });
}

/** Changes a member's project role; audits `project.member_role_changed` (nothing when unchanged). */
export async function setProjectMemberRole(
  db: PrismaClient,
  actor: ProjectActor,
  input: { projectId: string; userId: string; role: ProjectRole },
): Promise<{ userId: string; role: ProjectRole; changed: boolean }> {
  return db.$transaction(async (tx) => {
    const member = await lockedMember(tx, input.projectId, input.userId);
    if (member.role === input.role) return { userId: input.userId, role: member.role, changed: false };
    if (member.role === "manager") await assertAnotherManager(tx, actor, input.projectId, input.userId);
    await tx.projectMember.update({
      where: { projectId_userId: { projectId: input.projectId, userId: input.userId } },
      data: { role: input.role },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "project.member_role_changed",
      targetType: "user",
      targetId: input.userId,
      projectId: input.projectId,
      details: { email: member.user.email, before: { role: member.role }, after: { role: input.role } },
    });
    return { userId: input.userId, role: input.role, changed: true };
  });
}

/**
 * Removes a member from a project. Their unexpired leases on its images are released in the same
 * transaction (they can no longer open them, so the images go back to the pool). Audits
 * `project.member_removed`.
 */
export async function removeProjectMember(
  db: PrismaClient,
  actor: ProjectActor,
  input: { projectId: string; userId: string; now?: Date },
): Promise<{ userId: string; leasesReleased: number }> {
  const now = input.now ?? new Date();
  return db.$transaction(async (tx) => {
    const member = await lockedMember(tx, input.projectId, input.userId);
    if (member.role === "manager") await assertAnotherManager(tx, actor, input.projectId, input.userId);
    await tx.projectMember.delete({
      where: { projectId_userId: { projectId: input.projectId, userId: input.userId } },
    });
    const { count: leasesReleased } = await tx.assignment.updateMany({
      where: {
        userId: input.userId,
        // Manager assignments (no expiry) too.
        status: "active",
        OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
        image: { projectId: input.projectId },
      },
      data: { status: "released" },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "project.member_removed",
      targetType: "user",
      targetId: input.userId,
      projectId: input.projectId,
      details: { email: member.user.email, before: { role: member.role }, leasesReleased },
    });
    return { userId: input.userId, leasesReleased };
  });
}
