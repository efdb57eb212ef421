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
}

/** A BullMQ worker that routes each job to its handler by versioned name and validates the payload first. */
export function startWorker({ queue, redisUrl, concurrency, log }: StartWorkerOptions): Worker {
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
    { connection: createRedis(redisUrl, "worker"), concurrency, autorun: true },
  );
  worker.on("failed", (job, error) =>
    log.warn(
      { jobId: job?.id, job: job?.name, err: error.message, attempts: job?.attemptsMade },
      "job failed",
    ),
  );
  worker.on("error", (error) => log.error({ err: error.message }, "worker error"));
  return worker;
}
