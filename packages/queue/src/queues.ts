import { env } from "@sas/config";
import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis, withRedisTimeout } from "./connection";
import {
  autoPassImageJob,
  embedImageJob,
  exportDatasetJob,
  type JobDefinition,
  jobName,
  parsePayload,
  type QueueName,
  queueNames,
} from "./jobs";

/** Retries with exponential backoff by default: a transient failure should not need a human. */
export const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

let connection: Redis | undefined;
const queues = new Map<QueueName, Queue>();

export function producerConnection(): Redis {
  connection ??= createRedis(env().REDIS_URL, "producer");
  return connection;
}

export function queue(name: QueueName): Queue {
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, { connection: producerConnection(), defaultJobOptions });
    queues.set(name, q);
  }
  return q;
}

/** Validates the payload before it reaches Redis, so a bad job is refused at the caller. */
export async function enqueue<Payload>(
  definition: JobDefinition<Payload>,
  payload: Payload,
  options: JobsOptions = {},
): Promise<string> {
  const data = parsePayload(definition, payload);
  const job = await withRedisTimeout(
    queue(definition.queue).add(jobName(definition), data, options),
    `queueing ${jobName(definition)}`,
  );
  if (!job.id) throw new Error(`BullMQ returned no id for ${jobName(definition)}`);
  return job.id;
}

/**
 * Asks for an image's embedding. The BullMQ job id is derived from (image, model version), so asking
 * twice while a job exists is a no-op, and a re-run after completion is harmless (the handler is
 * idempotent).
 */
export async function enqueueEmbedding(
  imageId: string,
  modelVersionId: string,
  priority?: number,
): Promise<string> {
  return enqueue(
    embedImageJob,
    { imageId, modelVersionId },
    { jobId: `embed-${imageId}-${modelVersionId}`, ...(priority ? { priority } : {}) },
  );
}

/** The BullMQ job id of one image of a pass: adding it again while the job is kept is a no-op. */
export const passImageJobId = (jobId: string, imageId: string) => `pass-${jobId}-${imageId}`;

/**
 * Fewer tries than the default: an image that fails three times (each a full inference) is reported as
 * failed in the pass instead of holding a worker for minutes more.
 */
const passImageJobOptions: JobsOptions = { attempts: 3, backoff: { type: "exponential", delay: 5000 } };

/**
 * Queues one job per image of a pass. Job ids come from (pass, image), so queueing a pass twice (a retry
 * of the start call, or a resume) never runs an image twice at once.
 */
export async function enqueuePassImages(jobId: string, imageIds: readonly string[]): Promise<string[]> {
  const name = jobName(autoPassImageJob);
  const jobs = await withRedisTimeout(
    queue(autoPassImageJob.queue).addBulk(
      imageIds.map((imageId) => ({
        name,
        data: parsePayload(autoPassImageJob, { jobId, imageId }),
        opts: { ...passImageJobOptions, jobId: passImageJobId(jobId, imageId) },
      })),
    ),
    "queueing a pass",
    // Thousands of jobs in one call: more time, still bounded.
    15_000,
  );
  return jobs.map((job) => job.id ?? "");
}

/**
 * Removes a pass's jobs that no worker holds (waiting, delayed, finished). A job a worker is running is
 * locked and stays: its handler sees the cancelled pass and stops. Returns how many were removed.
 */
export async function removePassImageJobs(jobId: string, imageIds: readonly string[]): Promise<number> {
  const q = queue(autoPassImageJob.queue);
  let removed = 0;
  for (const imageId of imageIds) removed += await q.remove(passImageJobId(jobId, imageId));
  return removed;
}

/** The BullMQ job id of an export: queueing it twice (a retried start) runs it once. */
export const exportJobId = (exportId: string) => `export-${exportId}`;

/** Three tries: each rewrites every file under the same keys, so a retry is safe but not cheap. */
const exportJobOptions: JobsOptions = { attempts: 3, backoff: { type: "exponential", delay: 10_000 } };

export function enqueueExport(exportId: string): Promise<string> {
  return enqueue(exportDatasetJob, { exportId }, { ...exportJobOptions, jobId: exportJobId(exportId) });
}

/** Removes an export's job unless a worker holds it (the worker then sees the cancel between batches). */
export async function removeExportJob(exportId: string): Promise<number> {
  return queue(exportDatasetJob.queue).remove(exportJobId(exportId));
}

export async function queueCounts(): Promise<Record<QueueName, Record<string, number>>> {
  const entries = await Promise.all(
    queueNames.map(
      async (name) =>
        [
          name,
          await queue(name).getJobCounts("waiting", "active", "delayed", "failed", "completed"),
        ] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<QueueName, Record<string, number>>;
}

export async function closeQueues(): Promise<void> {
  await Promise.all([...queues.values()].map((q) => q.close()));
  queues.clear();
  connection?.disconnect();
  connection = undefined;
}
