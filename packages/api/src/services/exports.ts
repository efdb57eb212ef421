import type { SessionUser } from "@sas/auth";
import type { Logger } from "@sas/config";
import {
  cancelExport,
  createExport,
  type ExportParamsInput,
  type ExportSummary,
  exportFileKey,
  exportSummary,
  failExport,
  type PrismaClient,
} from "@sas/db";
import { enqueueExport, removeExportJob } from "@sas/queue";
import { TRPCError } from "@trpc/server";
import { assertCanManageProject } from "../access";

/**
 * Starts an export: its rows (domain), then its BullMQ job. When the queue cannot be reached the export
 * is failed with the reason (it would otherwise wait forever) and the caller gets SERVICE_UNAVAILABLE.
 */
export async function startExport(
  db: PrismaClient,
  actor: { id: string },
  input: { projectId: string; params?: ExportParamsInput },
  log?: Logger,
): Promise<ExportSummary> {
  const created = await createExport(db, actor, input);
  try {
    await enqueueExport(created.id);
  } catch (error) {
    log?.error({ err: error, exportId: created.id }, "could not queue the export");
    await failExport(db, created.id, "the job queue was unreachable when the export started");
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "the job queue is unreachable; the export was not started, try again later",
    });
  }
  log?.info({ exportId: created.id, projectId: input.projectId }, "export started");
  return exportSummary(db, created.id);
}

/**
 * Cancels an export (domain) and removes its job if no worker holds it; a running worker stops at its
 * next batch. A queue error here is logged: the cancelled row is what the worker obeys.
 */
export async function cancelExportAndJob(
  db: PrismaClient,
  projectId: string,
  exportId: string,
  log?: Logger,
): Promise<ExportSummary> {
  await cancelExport(db, projectId, exportId);
  try {
    await removeExportJob(exportId);
  } catch (error) {
    log?.warn({ err: error, exportId }, "export cancelled; its queued job could not be removed");
  }
  return exportSummary(db, exportId, projectId);
}

/**
 * A file of an export for download: the project's managers and admins only (NOT_FOUND for others, as for
 * an export that does not exist), once the export has completed, and only names it wrote.
 */
export async function exportFileForDownload(
  db: PrismaClient,
  user: { id: string; role: SessionUser["role"] },
  exportId: string,
  name: string,
): Promise<{ key: string; name: string }> {
  const row = await db.export.findUnique({ where: { id: exportId }, select: { projectId: true } });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "export not found" });
  try {
    await assertCanManageProject(db, user, row.projectId);
  } catch (error) {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") {
      throw new TRPCError({ code: "NOT_FOUND", message: "export not found" });
    }
    throw error;
  }
  const summary = await exportSummary(db, exportId, row.projectId);
  if (summary.status !== "completed") {
    throw new TRPCError({ code: "CONFLICT", message: `the export is ${summary.status}, not completed` });
  }
  if (!summary.files.includes(name))
    throw new TRPCError({ code: "NOT_FOUND", message: "no such file in the export" });
  return { key: exportFileKey(exportId, name), name };
}
