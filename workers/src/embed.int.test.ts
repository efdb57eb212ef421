import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { logger, repoRoot, resetEnvCache } from "@sas/config";
import { disconnectPrisma, ingestImage, prisma, registerModelVersion } from "@sas/db";
import { closeQueues, enqueueEmbedding, queue } from "@sas/queue";
import { fromFloat16, toFloat16 } from "@sas/sam";
import { decodeImage, defaultModelFiles, NodeSam } from "@sas/sam/node";
import { LocalDiskStorage, storage } from "@sas/storage";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "./run-worker";
import { releaseSessions } from "./sam-sessions";

const fixtures = path.resolve(repoRoot, "fixtures/images");

describe("embed queue: upload -> embedding ready, on the real encoder", () => {
  let dataDir: string;
  let events: QueueEvents;
  let projectId: string;
  let modelVersionId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-embed-"));
    process.env.DATA_DIR = dataDir;
    resetEnvCache();
    const db = prisma();
    const project = await db.project.create({ data: { name: `embed-${Date.now()}` } });
    projectId = project.id;
    const model = await registerModelVersion(db, {
      name: `minisam-test-${Date.now()}`,
      ...defaultModelFiles(),
    });
    modelVersionId = model.id;
    events = new QueueEvents("embed", { connection: { url: process.env.REDIS_URL! } });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events.close();
    await closeQueues();
    await releaseSessions();
    await disconnectPrisma();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function upload(file: string) {
    const bytes = await readFile(path.join(fixtures, file));
    const { image } = await ingestImage(prisma(), storage(), { projectId, filename: file, bytes });
    return { image, bytes };
  }

  it("stores the encoder's embedding as float16 and marks the image ready; a re-run changes nothing", async () => {
    const { image, bytes } = await upload("truck.jpg");
    const worker = startWorker({
      queue: "embed",
      redisUrl: process.env.REDIS_URL!,
      concurrency: 2,
      log: logger("test"),
    });
    try {
      const jobId = await enqueueEmbedding(image.id, modelVersionId);
      const job = await queue("embed").getJob(jobId);
      await job!.waitUntilFinished(events, 60_000);

      const db = prisma();
      expect((await db.image.findUniqueOrThrow({ where: { id: image.id } })).status).toBe("ready");
      const rows = await db.embedding.findMany({ where: { imageId: image.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        dtype: "float16",
        shape: [1, 256, 64, 64],
        sizeBytes: 256 * 64 * 64 * 2,
      });

      // What was stored is exactly the encoder's output for this image, rounded to float16.
      const stored = await new LocalDiskStorage(path.join(dataDir, "storage")).get(rows[0]!.storageKey);
      const sam = await NodeSam.load(defaultModelFiles());
      const expected = toFloat16((await sam.encode(await decodeImage(bytes))).data);
      await sam.release();
      const storedBits = new Uint16Array(stored.buffer, stored.byteOffset, stored.byteLength / 2);
      expect(Buffer.from(storedBits.buffer, storedBits.byteOffset, storedBits.byteLength)).toEqual(
        Buffer.from(expected.buffer),
      );
      expect(fromFloat16(storedBits).some((v) => v !== 0)).toBe(true);

      // Asking again (same job id) is ignored while the job is kept; a forced re-run is idempotent.
      expect(await enqueueEmbedding(image.id, modelVersionId)).toBe(jobId);
      const rerun = await queue("embed").add("embed-image@v1", { imageId: image.id, modelVersionId });
      expect(await rerun.waitUntilFinished(events, 60_000)).toEqual({ skipped: "already embedded" });
      expect(await db.embedding.count({ where: { imageId: image.id } })).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it("a worker killed mid-job: another worker picks the job up and it completes once", async () => {
    const { image } = await upload("dogs.jpg");
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      WORKER_QUEUES: "embed",
      JOB_LOCK_MS: "2000",
      LOG_LEVEL: "info",
    };
    const main = path.join(repoRoot, "workers/src/main.ts");
    const first = spawn(process.execPath, ["--import", "tsx", main], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let firstOut = "";
    first.stdout.on("data", (chunk) => {
      firstOut += chunk;
    });
    const jobId = await enqueueEmbedding(image.id, modelVersionId);
    // Kill it as soon as it has started the job (the image is marked "embedding" before the encode).
    const deadline = Date.now() + 60_000;
    while ((await prisma().image.findUniqueOrThrow({ where: { id: image.id } })).status !== "embedding") {
      if (Date.now() > deadline) throw new Error(`first worker never started the job:\n${firstOut}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    expect(await prisma().embedding.count({ where: { imageId: image.id } })).toBe(0);

    const second = spawn(process.execPath, ["--import", "tsx", main], {
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
    try {
      const job = await queue("embed").getJob(jobId);
      await job!.waitUntilFinished(events, 90_000);
      const done = await queue("embed").getJob(jobId);
      expect(await done!.getState()).toBe("completed");
      expect(await prisma().embedding.count({ where: { imageId: image.id } })).toBe(1);
      expect((await prisma().image.findUniqueOrThrow({ where: { id: image.id } })).status).toBe("ready");
    } finally {
      second.kill("SIGTERM");
      await new Promise((r) => second.once("exit", r));
    }
  });

  it("an original that no longer decodes fails once, without retries, and the image says why", async () => {
    const { image } = await upload("dog.jpg");
    await new LocalDiskStorage(path.join(dataDir, "storage")).put(
      image.storageKey,
      new TextEncoder().encode("gone"),
    );
    const worker = startWorker({
      queue: "embed",
      redisUrl: process.env.REDIS_URL!,
      concurrency: 1,
      log: logger("test"),
    });
    try {
      const jobId = await enqueueEmbedding(image.id, modelVersionId);
      const job = await queue("embed").getJob(jobId);
      await expect(job!.waitUntilFinished(events, 60_000)).rejects.toThrow();
      const failed = await queue("embed").getJob(jobId);
      expect(failed!.attemptsMade).toBe(1);
      await expect
        .poll(async () => (await prisma().image.findUniqueOrThrow({ where: { id: image.id } })).status)
        .toBe("failed");
      expect((await prisma().image.findUniqueOrThrow({ where: { id: image.id } })).error).toBeTruthy();
    } finally {
      await worker.close();
    }
  });
});
