import type { SessionUser } from "@sas/auth";
import {
  type PrismaClient,
  RuleViolation,
  type StatsScope,
  type StatsTableView,
  statsCsvHeader,
  statsCsvLines,
  statsScope,
  statsTableRows,
  statsTableViewSchema,
} from "@sas/db";
import { TRPCError } from "@trpc/server";
import { assertCanManageProject } from "../access";

/** Query-string names of the dashboard filters, as the charts' page puts them in the CSV link. */
const FILTER_PARAMS = ["from", "to", "stage", "source", "modelVersionId", "annotatorId", "exportId"] as const;

/**
 * The per-mask table behind a dashboard view, as CSV, for `GET /api/projects/:projectId/stats/:view`.
 * The project's managers and admins only (the same rule as the `stats` router). The filters come from the
 * query string; a bad one is a 400 that says which. Rows stream in keyset batches, so the table of a
 * million-mask project never sits in memory.
 */
export async function statsCsvDownload(
  db: PrismaClient,
  user: Pick<SessionUser, "id" | "role">,
  projectId: string,
  view: string,
  query: URLSearchParams,
): Promise<{ filename: string; body: ReadableStream<Uint8Array> }> {
  await assertCanManageProject(db, user, projectId);
  const parsedView = statsTableViewSchema.safeParse(view);
  if (!parsedView.success) throw new TRPCError({ code: "NOT_FOUND", message: "no such statistics table" });
  const filters: Record<string, string> = {};
  for (const name of FILTER_PARAMS) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  let scope: StatsScope;
  try {
    scope = await statsScope(db, { projectId, ...filters });
  } catch (error) {
    if (error instanceof RuleViolation) throw new TRPCError({ code: error.code, message: error.message });
    throw error;
  }
  return { filename: `stats-${parsedView.data}.csv`, body: csvStream(db, scope, parsedView.data) };
}

function csvStream(db: PrismaClient, scope: StatsScope, view: StatsTableView): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const batches = statsTableRows(db, scope, view);
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    // One batch per pull: the client's reading pace sets how fast the database is read.
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(statsCsvHeader()));
        return;
      }
      const next = await batches.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(statsCsvLines(next.value)));
    },
    async cancel() {
      await batches.return(undefined);
    },
  });
}
