import { spawn } from "node:child_process";
import path from "node:path";
import { logger, repoRoot } from "@sas/config";
import { disconnectPrisma, prisma } from "@sas/db";
import { closeQueues, enqueue, expireLeasesJob, jobName, queue } from "@sas/queue";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "./run-worker";

const redisUrl = () => process.env.REDIS_URL!;

async function makeAssignment(expiresAt: Date) {
  const db = prisma();
  const project = await db.project.create({ data: { name: `p-${Math.random()}` } });
  const user = await db.user.create({ data: { email: `${Math.random()}@t.local`, name: "t" } });
  const image = await db.image.create({
    data: {
      projectId: project.id,
      filename: "a.jpg",
      mimeType: "image/jpeg",
      width: 10,
      height: 10,
      sizeBytes: 1n,
      sha256: "0".repeat(64),
      storageKey: "images/00/x.jpg",
    },
  });
  return db.assignment.create({ data: { imageId: image.id, userId: user.id, expiresAt } });
}

describe("maintenance worker over real Redis and PostgreSQL", () => {
  const log = logger("test");
  let events: QueueEvents;
  beforeAll(async () => {
    events = new QueueEvents("maintenance", { connection: { url: redisUrl() } });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events.close();
    await closeQueues();
    await disconnectPrisma();
  });

  it("consumes an expire-leases job and returns abandoned leases to the pool", async () => {
    const stale = await makeAssignment(new Date(Date.now() - 60_000));
    const fresh = await makeAssignment(new Date(Date.now() + 3_600_000));
    const worker = startWorker({ queue: "maintenance", redisUrl: redisUrl(), concurrency: 1, log });
    try {
      const id = await enqueue(expireLeasesJob, {});
      const job = await queue("maintenance").getJob(id);
      const result = (await job!.waitUntilFinished(events, 20_000)) as { expired: number };
      // Test files share the database: other files' stale leases may be swept by the same job.
      expect(result.expired).toBeGreaterThanOrEqual(1);
      const rows = await prisma().assignment.findMany({ where: { id: { in: [stale.id, fresh.id] } } });
      expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
        [stale.id]: "expired",
        [fresh.id]: "active",
      });
    } finally {
      await worker.close();
    }
  });

  it("refuses a malformed payload at enqueue time", async () => {
    await expect(enqueue(expireLeasesJob, { now: "not a date" })).rejects.toThrow(
      /bad payload for expire-leases@v1/,
    );
  });

  it("fails a malformed job already in Redis once, without retries", async () => {
    const worker = startWorker({ queue: "maintenance", redisUrl: redisUrl(), concurrency: 1, log });
    try {
      const job = await queue("maintenance").add(jobName(expireLeasesJob), { now: 42 }, { attempts: 5 });
      await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow(/bad payload/);
      const failed = await queue("maintenance").getJob(job.id!);
      expect(failed!.attemptsMade).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it("the worker process starts, and stops cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "workers/src/main.ts")], {
      env: { ...process.env, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const deadline = Date.now() + 30_000;
    while (!output.includes("worker ready") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain("worker ready");
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(output).toContain("worker stopped");
  });

  it("a stopped Redis gives one clear error line at start", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "workers/src/main.ts")], {
      env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^worker: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/),
    ]);
  });
});
