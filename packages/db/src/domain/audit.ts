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
  "mask.reviewed",
  "pass.started",
  "pass.cancelled",
  "export.created",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  actorId: string | null;
  action: AuditAction;
  targetType: "user" | "project" | "assignment" | "mask" | "job" | "export";
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
