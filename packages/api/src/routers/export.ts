import { exportFiltersSchema, exportOptionsSchema, exportSummary, listExports } from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { cancelExportAndJob, startExport } from "../services/exports";
import { router } from "../trpc";
import { withRules } from "./users";

/**
 * SA-1B exports of a project: its managers (and admins) start, watch, cancel and list them. Files are
 * downloaded from `/api/exports/:exportId/files/:name`.
 */
export const exportRouter = router({
  /** Queues an export of the project's masks that pass the filters. BAD_REQUEST for bad parameters. */
  start: projectProcedure("manage")
    .input(
      z.object({
        filters: exportFiltersSchema.optional(),
        options: exportOptionsSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      withRules(() =>
        startExport(
          ctx.db,
          ctx.user,
          { projectId: input.projectId, params: { filters: input.filters, options: input.options } },
          ctx.log,
        ),
      ),
    ),

  /** The project's exports, newest first. */
  list: projectProcedure("manage").query(({ ctx, input }) => listExports(ctx.db, input.projectId)),

  /** One export of the project: status, progress, counts, files. */
  get: projectProcedure("manage")
    .input(z.object({ exportId: z.uuid() }))
    .query(({ ctx, input }) => withRules(() => exportSummary(ctx.db, input.exportId, input.projectId))),

  /** Stops a queued or running export; CONFLICT once it has finished. */
  cancel: projectProcedure("manage")
    .input(z.object({ exportId: z.uuid() }))
    .mutation(({ ctx, input }) =>
      withRules(() => cancelExportAndJob(ctx.db, input.projectId, input.exportId, ctx.log)),
    ),
});
