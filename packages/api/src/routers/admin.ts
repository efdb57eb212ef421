import { queueNames } from "@sas/queue";
import { z } from "zod";
import { text } from "../inputs";
import {
  JOB_STATES,
  queueJobs,
  queueOverview,
  removeJob,
  retryAllFailed,
  retryJob,
} from "../services/queue-board";
import { adminProcedure, router } from "../trpc";

const queueName = z.enum(queueNames);
const jobId = text().min(1).max(200);

/** The queue dashboard (/admin/queues), admins only; data and actions through bull-board's adapter. */
export const adminRouter = router({
  /** Every queue's job counts per state, whether it is paused, and its newest failures with their errors. */
  queues: adminProcedure.query(() => queueOverview()),

  /** One page of a queue's jobs in one state. */
  jobs: adminProcedure
    .input(
      z.object({
        queue: queueName,
        state: z.enum(JOB_STATES),
        page: z.number().int().min(0).max(10_000).default(0),
        pageSize: z.number().int().min(1).max(100).default(20),
      }),
    )
    .query(({ input }) => queueJobs(input.queue, input.state, input.page, input.pageSize)),

  /** Puts one failed job, or every failed job of a queue, back in line. */
  retryFailed: adminProcedure
    .input(z.object({ queue: queueName, jobId: jobId.optional() }))
    .mutation(async ({ input, ctx }) => {
      if (input.jobId) {
        await retryJob(input.queue, input.jobId);
        ctx.log.info({ queue: input.queue, jobId: input.jobId, by: ctx.user.id }, "job retried");
        return { retried: 1 };
      }
      const count = await retryAllFailed(input.queue);
      ctx.log.info({ queue: input.queue, count, by: ctx.user.id }, "failed jobs retried");
      return { retried: count };
    }),

  /** Removes one job that is not running (CONFLICT for an active one, NOT_FOUND for an unknown id). */
  removeJob: adminProcedure.input(z.object({ queue: queueName, jobId })).mutation(async ({ input, ctx }) => {
    await removeJob(input.queue, input.jobId);
    ctx.log.info({ queue: input.queue, jobId: input.jobId, by: ctx.user.id }, "job removed");
    return { removed: 1 };
  }),
});
