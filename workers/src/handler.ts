import type { Logger } from "@sas/config";
import type { JobDefinition } from "@sas/queue";
import type { Job } from "bullmq";

export interface JobContext {
  job: Job;
  log: Logger;
  /** 0..1; forwarded to BullMQ (and to the job's row, for jobs that have one). */
  progress(fraction: number): Promise<void>;
}

export interface JobHandler<Payload> {
  definition: JobDefinition<Payload>;
  run(payload: Payload, context: JobContext): Promise<unknown>;
  /** Called once when a job has failed for good (no retries left, or an unrecoverable error). */
  onFinalFailure?(payload: Payload, error: Error, log: Logger): Promise<void>;
}

export function defineHandler<Payload>(handler: JobHandler<Payload>): JobHandler<Payload> {
  return handler;
}
