import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { type QueueName, queue, queueNames } from "@sas/queue";
import { TRPCError } from "@trpc/server";

/**
 * The admin queue dashboard's data and actions, through bull-board's BullMQ adapter (the queue layer of
 * the bull-board dashboard, without its own UI): the app shows them in its own layout and permission
 * chain. One adapter per queue, made once.
 */
const adapters = new Map<QueueName, BullMQAdapter>();
function board(name: QueueName): BullMQAdapter {
  let adapter = adapters.get(name);
  if (!adapter) {
    adapter = new BullMQAdapter(queue(name));
    adapters.set(name, adapter);
  }
  return adapter;
}

/** The job states a queue reports, in the order the dashboard shows them. */
export const JOB_STATES = [
  "active",
  "waiting",
  "prioritized",
  "waiting-children",
  "delayed",
  "paused",
  "failed",
  "completed",
] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobSummary {
  id: string;
  name: string;
  /** The job's payload, as JSON text cut to a readable length. */
  data: string;
  attempts: number;
  createdAt: Date | null;
  finishedAt: Date | null;
  /** Why it failed, and the first lines of the stack, for failed jobs. */
  error: string | null;
  stack: string | null;
}

export interface QueueOverview {
  name: QueueName;
  paused: boolean;
  counts: Record<JobState, number>;
  /** The newest failures, with their errors. */
  failed: JobSummary[];
}

interface RawJob {
  id?: string | null;
  name: string;
  data: unknown;
  attemptsMade: number;
  timestamp?: number;
  finishedOn?: number;
  failedReason?: string;
  stacktrace?: string[] | null;
}

function summary(job: RawJob, state: JobState): JobSummary {
  const stack = job.stacktrace?.at(-1) ?? null;
  return {
    id: job.id ?? "",
    name: job.name,
    data: JSON.stringify(job.data ?? null).slice(0, 300),
    attempts: job.attemptsMade,
    createdAt: job.timestamp ? new Date(job.timestamp) : null,
    finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
    error: state === "failed" ? (job.failedReason ?? "") : null,
    stack: state === "failed" && stack ? stack.split("\n").slice(0, 6).join("\n") : null,
  };
}

async function jobsIn(name: QueueName, state: JobState, start: number, end: number): Promise<JobSummary[]> {
  const jobs = (await board(name).getJobs([state], start, end)) as unknown as RawJob[];
  return jobs.map((job) => summary(job, state));
}

/** Every queue: counts per state, paused or not, and its newest failures with their errors. */
export async function queueOverview(failures = 20): Promise<QueueOverview[]> {
  return Promise.all(
    queueNames.map(async (name) => {
      const adapter = board(name);
      const [counts, paused, failed] = await Promise.all([
        adapter.getJobCounts() as Promise<Partial<Record<string, number>>>,
        adapter.isPaused(),
        jobsIn(name, "failed", 0, failures - 1),
      ]);
      return {
        name,
        paused,
        counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>,
        failed,
      };
    }),
  );
}

/** One page of a queue's jobs in one state, newest first. */
export function queueJobs(name: QueueName, state: JobState, page: number, pageSize: number) {
  return jobsIn(name, state, page * pageSize, (page + 1) * pageSize - 1);
}

async function findJob(name: QueueName, jobId: string) {
  const job = await board(name).getJob(jobId);
  if (!job) throw new TRPCError({ code: "NOT_FOUND", message: "no such job" });
  return job;
}

/** Puts a failed job back in line; NOT_FOUND unless it exists and has failed. */
export async function retryJob(name: QueueName, jobId: string): Promise<void> {
  const job = await findJob(name, jobId);
  if ((await job.getState()) !== "failed") {
    throw new TRPCError({ code: "NOT_FOUND", message: "no such failed job" });
  }
  await job.retry("failed");
}

/**
 * Removes a job for good. A job a worker holds now (active) is refused: removing it under the worker
 * would lose the work without telling anyone.
 */
export async function removeJob(name: QueueName, jobId: string): Promise<void> {
  const job = await findJob(name, jobId);
  if ((await job.getState()) === "active") {
    throw new TRPCError({ code: "CONFLICT", message: "the job is running; wait for it to finish or fail" });
  }
  await job.remove();
}

/** Puts every failed job of a queue back in line; how many there were. */
export async function retryAllFailed(name: QueueName): Promise<number> {
  const count = (await queue(name).getJobCounts("failed")).failed ?? 0;
  await queue(name).retryJobs({ state: "failed" });
  return count;
}
