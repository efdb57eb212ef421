import { queue, queueNames } from "@sas/queue";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { text } from "../inputs";
import { adminProcedure, router } from "../trpc";

const queueName = z.enum(queueNames);
const states = ["waiting", "active", "delayed", "failed", "completed"] as const;

export const adminRouter = router({
  /** Every queue's job counts and its most recent failures, for the admin queue view. */
  queues: adminProcedure.query(async () => {
    return Promise.all(
      queueNames.map(async (name) => {
        const q = queue(name);
        const [counts, failed] = await Promise.all([q.getJobCounts(...states), q.getFailed(0, 19)]);
        return {
          name,
          counts: Object.fromEntries(states.map((s) => [s, counts[s] ?? 0])) as Record<
            (typeof states)[number],
            number
          >,
          failed: failed.map((job) => ({
            id: job.id ?? "",
            name: job.name,
            reason: job.failedReason ?? "",
            attempts: job.attemptsMade,
            failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
          })),
        };
      }),
    );
  }),

  /** Puts one failed job, or every failed job of a queue, back in line. */
  retryFailed: adminProcedure
    .input(z.object({ queue: queueName, jobId: text().min(1).max(200).optional() }))
    .mutation(async ({ input, ctx }) => {
      const q = queue(input.queue);
      if (input.jobId) {
        const job = await q.getJob(input.jobId);
        if (!job || !(await job.isFailed()))
          throw new TRPCError({ code: "NOT_FOUND", message: "no such failed job" });
        await job.retry("failed");
        ctx.log.info({ queue: input.queue, jobId: input.jobId, by: ctx.user.id }, "job retried");
        return { retried: 1 };
      }
      const count = (await q.getJobCounts("failed")).failed ?? 0;
      await q.retryJobs({ state: "failed" });
      ctx.log.info({ queue: input.queue, count, by: ctx.user.id }, "failed jobs retried");
      return { retried: count };
    }),
});
