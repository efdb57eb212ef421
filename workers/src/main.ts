import { ConfigError, env, logger } from "@sas/config";
import { checkDatabase, disconnectPrisma, prisma } from "@sas/db";
import {
  closeQueues,
  expireLeasesJob,
  jobName,
  pingRedis,
  type QueueName,
  queue,
  queueNames,
} from "@sas/queue";
import type { Worker } from "bullmq";
import { startWorker } from "./run-worker";
import { releaseSessions } from "./sam-sessions";

function embedConcurrency(config: ReturnType<typeof env>): number {
  return config.EMBED_CONCURRENCY ?? (config.ORT_EXECUTION_PROVIDER === "cuda" ? 2 : 1);
}

async function main(): Promise<void> {
  const config = env();
  const log = logger("worker");
  await checkDatabase(prisma());
  await pingRedis(config.REDIS_URL);

  const wanted = config.WORKER_QUEUES.length ? config.WORKER_QUEUES : [...queueNames];
  const unknown = wanted.filter((name) => !queueNames.includes(name as QueueName));
  if (unknown.length) throw new ConfigError(`WORKER_QUEUES names unknown queues: ${unknown.join(", ")}`);
  const workers: Worker[] = wanted.map((name) =>
    startWorker({
      queue: name as QueueName,
      redisUrl: config.REDIS_URL,
      // Encodes are serialised per process (see sam-sessions.ts); with a second embed job in flight it
      // decodes and stores its image while the first one holds the encoder (worth it on GPU only).
      concurrency: name === "embed" ? embedConcurrency(config) : config.WORKER_CONCURRENCY,
      lockMs: config.JOB_LOCK_MS,
      log,
    }),
  );
  if (wanted.includes("maintenance")) {
    // Idempotent: every worker may call it, Redis keeps one schedule.
    await queue("maintenance").upsertJobScheduler(
      "expire-leases",
      { every: 60_000 },
      { name: jobName(expireLeasesJob), data: {} },
    );
  }
  log.info({ queues: wanted, concurrency: config.WORKER_CONCURRENCY }, "worker ready");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping: finishing current jobs");
    // close() waits for active jobs; a job cut off by a hard kill is picked up again by another worker
    // once its lock expires.
    await Promise.all(workers.map((w) => w.close()));
    await releaseSessions();
    await closeQueues();
    await disconnectPrisma();
    log.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: Error) => {
  process.stderr.write(`worker: ${error.message}\n`);
  process.exit(1);
});
