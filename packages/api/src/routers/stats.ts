import {
  annotatorStats,
  datasetStats,
  reviewStats,
  statsFilterOptions,
  statsFiltersSchema,
  statsFor,
  throughputStats,
  timingStats,
} from "@sas/db";
import { z } from "zod";
import { projectProcedure } from "../access";
import { router } from "../trpc";
import { withRules } from "./users";

/**
 * The manager dashboard (packages/db/src/domain/stats): every view takes the same filters (date range
 * over mask creation, stage, source, model version, annotator, and an export's selection). Permission:
 * the project's managers and admins (`projectProcedure("manage")`); others get FORBIDDEN, and people
 * outside the project NOT_FOUND. The per-mask tables behind the charts are CSV downloads from
 * `/api/projects/:projectId/stats/:view.csv`.
 */
const managed = projectProcedure("manage").input(statsFiltersSchema);

export const statsRouter = router({
  /** What the filter controls offer: the project's members, model versions, finished exports. */
  options: projectProcedure("manage").query(({ ctx, input }) => statsFilterOptions(ctx.db, input.projectId)),

  /** Seconds per mask (median, p90) overall, by week, annotator, stage, model version; interactions. */
  timing: managed.query(({ ctx, input }) => withRules(() => statsFor(ctx.db, input, timingStats))),

  /** Masks per active hour, images per day, masks per image by week and by stage. */
  throughput: managed.query(({ ctx, input }) => withRules(() => statsFor(ctx.db, input, throughputStats))),

  /** Review shares by stage and source; IoU of corrections as a histogram with the share above 0.9. */
  review: managed.query(({ ctx, input }) => withRules(() => statsFor(ctx.db, input, reviewStats))),

  /** SA-1B dataset statistics: masks per image, relative size, centre heatmap, stage/source split. */
  dataset: managed.query(({ ctx, input }) => withRules(() => statsFor(ctx.db, input, datasetStats))),

  /** One annotator against the project median; NOT_FOUND for a user who does not exist. */
  annotator: projectProcedure("manage")
    .input(statsFiltersSchema.and(z.object({ userId: z.uuid() })))
    .query(({ ctx, input }) => {
      const { userId, ...filters } = input;
      return withRules(() => annotatorStats(ctx.db, filters, userId));
    }),
});
