import { AUDIT_ACTIONS, listAudit } from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { adminProcedure, router } from "../trpc";

const filters = z.object({
  actorId: z.uuid().nullish(),
  action: z.enum(AUDIT_ACTIONS).nullish(),
  cursor: z.object({ createdAt: z.date(), id: z.uuid() }).nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});

/**
 * The audit log (who did what that matters later: roles, memberships, assignments, the image workflow,
 * reviews, mask deletes, refused changes to approved masks), newest first, filtered by user and action.
 */
export const auditRouter = router({
  /** One project's entries: its managers and admins. */
  project: projectProcedure("manage")
    .input(filters)
    .query(({ ctx, input }) => listAudit(ctx.db, { ...input, projectId: input.projectId })),

  /** Every entry, optionally of one project (users and accounts have none): admins only. */
  all: adminProcedure
    .input(filters.extend({ projectId: z.uuid().nullish() }))
    .query(({ ctx, input }) => listAudit(ctx.db, { ...input, projectId: input.projectId ?? null })),
});
