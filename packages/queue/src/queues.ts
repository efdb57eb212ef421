import { env } from "@sas/config";
import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "./connection";
import { embedImageJob, type JobDefinition, jobName, parsePayload, type QueueName, queueNames } from "./jobs";

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
  const job = await queue(definition.queue).add(jobName(definition), data, options);
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
