import type { Logger } from "@sas/config";
import { createRedis, parsePayload, type QueueName } from "@sas/queue";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { JobHandler } from "./handler";
import { handlersFor } from "./registry";

export interface StartWorkerOptions {
  queue: QueueName;
  redisUrl: string;
  concurrency: number;
  log: Logger;
  lockMs?: number;
}

/** A BullMQ worker that routes each job to its handler by versioned name and validates the payload first. */
export function startWorker({
  queue,
  redisUrl,
  concurrency,
  log,
  lockMs = 30_000,
}: StartWorkerOptions): Worker {
  const handlers = handlersFor(queue);
  const worker = new Worker(
    queue,
    async (job: Job) => {
      const handler: JobHandler<never> | undefined = handlers.get(job.name);
      if (!handler) throw new UnrecoverableError(`no handler for job ${job.name} on queue ${queue}`);
      let payload: never;
      try {
        payload = parsePayload(handler.definition, job.data) as never;
      } catch (error) {
        // Retrying cannot fix a malformed payload.
        throw new UnrecoverableError((error as Error).message);
      }
      const jobLog = log.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
      const started = performance.now();
      const result = await handler.run(payload, {
        job,
        log: jobLog,
        progress: (fraction) => job.updateProgress(Math.round(Math.min(1, Math.max(0, fraction)) * 100)),
      });
      jobLog.debug({ ms: Math.round(performance.now() - started) }, "job done");
      return result;
    },
    {
      connection: createRedis(redisUrl, "worker"),
      concurrency,
      autorun: true,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died twice in a row is more likely to kill workers than to be unlucky.
      maxStalledCount: 2,
    },
  );
  worker.on("failed", (job, error) => {
    if (!job) return;
    const handler = handlers.get(job.name);
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final && handler?.onFinalFailure) {
      const parsed = handler.definition.payload.safeParse(job.data);
      if (parsed.success) {
        handler
          .onFinalFailure(parsed.data as never, error, log.child({ jobId: job.id, job: job.name }))
          .catch((e: Error) => log.error({ jobId: job.id, err: e.message }, "final-failure handler failed"));
      }
    }
  });
  worker.on("failed", (job, error) =>
    log.warn(
      { jobId: job?.id, job: job?.name, err: error.message, attempts: job?.attemptsMade },
      "job failed",
    ),
  );
  worker.on("error", (error) => log.error({ err: error.message }, "worker error"));
  return worker;
}
