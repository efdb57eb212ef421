import type { Prisma, PrismaClient } from "../generated/prisma/client";

/** Everything the audit log records; one place, so reports can rely on the names. */
export const AUDIT_ACTIONS = [
  "user.created",
  "user.role_changed",
  "user.deactivated",
  "user.reactivated",
  "project.created",
  "project.member_added",
  "project.member_role_changed",
  "project.member_removed",
  "assignment.reassigned",
  "image.submitted",
  "image.skipped",
  "image.reopened",
  // A review moved a handed-in image on (needs changes, in review, done): see domain/workflow.ts.
  "image.state_changed",
  "mask.reviewed",
  "mask.deleted",
  "mask.restored",
  // Someone tried to change or delete a mask the rules protect (an approved one): refused, and recorded.
  "mask.change_refused",
  "pass.started",
  "pass.cancelled",
  "export.created",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  actorId: string | null;
  action: AuditAction;
  targetType: "user" | "project" | "assignment" | "image" | "mask" | "job" | "export";
  targetId?: string | null;
  projectId?: string | null;
  details?: Prisma.InputJsonObject;
}

type Db = PrismaClient | Prisma.TransactionClient;

/** Records one audit entry; pass the transaction client so the entry commits with the change itself. */
export async function audit(db: Db, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      projectId: entry.projectId ?? null,
      details: entry.details ?? {},
    },
  });
}

export interface AuditQuery {
  /** Null: every project (admins only; the API decides who may ask). */
  projectId: string | null;
  actorId?: string | null;
  action?: AuditAction | null;
  /** The last row of the previous page (newest first). */
  cursor?: { createdAt: Date; id: string } | null;
  limit?: number;
}

export interface AuditRow {
  id: string;
  createdAt: Date;
  action: string;
  targetType: string;
  targetId: string | null;
  projectId: string | null;
  projectName: string | null;
  actorId: string | null;
  actorName: string | null;
  actorEmail: string | null;
  details: Prisma.JsonValue;
}

/**
 * A page of the audit log, newest first, filtered by project, actor and action; keyset-paged on
 * (createdAt, id), which the (projectId, createdAt), (actorId, createdAt) and (createdAt) indexes serve.
 */
export async function listAudit(
  db: PrismaClient,
  query: AuditQuery,
): Promise<{ items: AuditRow[]; nextCursor: { createdAt: Date; id: string } | null }> {
  const limit = query.limit ?? 50;
  const where: Prisma.AuditLogWhereInput = {
    ...(query.projectId ? { projectId: query.projectId } : {}),
    ...(query.actorId ? { actorId: query.actorId } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.cursor
      ? {
          OR: [
            { createdAt: { lt: query.cursor.createdAt } },
            { createdAt: query.cursor.createdAt, id: { lt: query.cursor.id } },
          ],
        }
      : {}),
  };
  const rows = await db.auditLog.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: {
      id: true,
      createdAt: true,
      action: true,
      targetType: true,
      targetId: true,
      projectId: true,
      details: true,
      actor: { select: { id: true, name: true, email: true } },
    },
  });
  const page = rows.slice(0, limit);
  const projectIds = [...new Set(page.map((r) => r.projectId).filter((id): id is string => !!id))];
  const projects = projectIds.length
    ? await db.project.findMany({ where: { id: { in: projectIds } }, select: { id: true, name: true } })
    : [];
  const names = new Map(projects.map((p) => [p.id, p.name]));
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      createdAt: r.createdAt,
      action: r.action,
      targetType: r.targetType,
      targetId: r.targetId,
      projectId: r.projectId,
      projectName: r.projectId ? (names.get(r.projectId) ?? null) : null,
      actorId: r.actor?.id ?? null,
      actorName: r.actor?.name ?? null,
      actorEmail: r.actor?.email ?? null,
      details: r.details,
    })),
    nextCursor: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}
