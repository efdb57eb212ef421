import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auth } from "@sas/auth";
import { repoRoot, resetEnvCache } from "@sas/config";
import {
  createUserWithPassword,
  disconnectPrisma,
  ingestImage,
  prisma,
  registerModelVersion,
  storeModelFiles,
} from "@sas/db";
import { closeQueues, enqueueEmbedding, queue } from "@sas/queue";
import { defaultModelFiles } from "@sas/sam/node";
import { resetStorage, S3Storage, storage } from "@sas/storage";
import { startTestS3Server, type TestS3Server } from "@sas/storage/testing";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getEmbedding } from "../../apps/web/src/app/api/images/[imageId]/embedding/route";

const fixtures = path.resolve(repoRoot, "fixtures/images");
const images = ["dog.jpg", "dogs.jpg", "groceries.jpg", "picture1.jpg", "picture2.jpg", "truck.jpg"];

/** A worker process as on its own host: its own DATA_DIR, and only the database, Redis and S3 settings shared. */
interface WorkerHost {
  child: ChildProcess;
  dataDir: string;
  output: () => string;
}

async function startWorkerHost(s3Env: Record<string, string>): Promise<WorkerHost> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-worker-host-"));
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "workers/src/main.ts")], {
    env: { ...process.env, ...s3Env, DATA_DIR: dataDir, WORKER_QUEUES: "embed", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('"worker ready"')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`worker did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, dataDir, output: () => output };
}

/** The image ids a worker's log says it stored an embedding for. */
function embeddedBy(host: WorkerHost): string[] {
  return host
    .output()
    .split("\n")
    .filter((line) => line.includes('"embedding stored"'))
    .map((line) => (JSON.parse(line) as { imageId: string }).imageId);
}

describe("two worker hosts on S3 storage, one queue, one web process", () => {
  let s3: TestS3Server;
  let events: QueueEvents;
  let hosts: WorkerHost[] = [];
  let cookie: string;
  let projectId: string;
  let modelVersionId: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    s3 = await startTestS3Server();
    for (const [name, value] of Object.entries(s3.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    resetEnvCache();
    resetStorage();
    expect(storage()).toBeInstanceOf(S3Storage);
    const db = prisma();
    const tag = Date.now();
    // The model's files go to the bucket too: a worker host loads the version from storage alone.
    const model = await registerModelVersion(
      db,
      await storeModelFiles(storage(), { name: `scale-out-${tag}`, ...defaultModelFiles() }),
    );
    modelVersionId = model.id;
    projectId = (await db.project.create({ data: { name: `scale-out-${tag}`, modelVersionId: model.id } }))
      .id;
    const password = "correct horse battery";
    const admin = await createUserWithPassword(db, {
      email: `admin-${tag}@t.local`,
      name: "admin",
      role: "admin",
      password,
    });
    const signedIn = await auth().api.signInEmail({
      body: { email: admin.email, password },
      asResponse: true,
    });
    cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    events = new QueueEvents("embed", { connection: { url: process.env.REDIS_URL! } });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    for (const host of hosts) {
      if (host.child.exitCode === null) {
        host.child.kill("SIGTERM");
        await new Promise((r) => host.child.once("exit", r));
      }
      await rm(host.dataDir, { recursive: true, force: true });
    }
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
    resetStorage();
    await events?.close();
    await closeQueues();
    await disconnectPrisma();
    await s3.close();
  });

  it("both workers embed from the shared queue, and the web process serves every embedding", {
    timeout: 300_000,
  }, async () => {
    hosts = await Promise.all([startWorkerHost(s3.env), startWorkerHost(s3.env)]);
    const uploaded = await Promise.all(
      images.map(async (file) => {
        const bytes = await readFile(path.join(fixtures, file));
        return (await ingestImage(prisma(), storage(), { projectId, filename: file, bytes })).image;
      }),
    );
    const jobIds = await Promise.all(uploaded.map((image) => enqueueEmbedding(image.id, modelVersionId)));
    for (const jobId of jobIds) {
      const job = await queue("embed").getJob(jobId);
      await job!.waitUntilFinished(events, 240_000);
    }

    // Each worker took jobs from the one queue, and between them every image was embedded exactly once.
    const [first, second] = hosts.map(embeddedBy);
    expect(first!.length, hosts[0]!.output()).toBeGreaterThan(0);
    expect(second!.length, hosts[1]!.output()).toBeGreaterThan(0);
    expect([...first!, ...second!].sort()).toEqual(uploaded.map((image) => image.id).sort());

    for (const image of uploaded) {
      const row = await prisma().embedding.findUniqueOrThrow({
        where: { imageId_modelVersionId: { imageId: image.id, modelVersionId } },
      });
      const response = await getEmbedding(
        new Request(`http://127.0.0.1/api/images/${image.id}/embedding`, { headers: { cookie } }),
        { params: Promise.resolve({ imageId: image.id }) },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get("x-model-version")).toBe(modelVersionId);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.length).toBe(256 * 64 * 64 * 2);
      expect(Buffer.compare(bytes, await storage().get(row.storageKey))).toBe(0);
      expect(bytes.some((byte) => byte !== 0)).toBe(true);
    }

    // Nothing went to the worker hosts' own disks: the blobs are in the bucket only.
    for (const host of hosts) expect(await readdir(host.dataDir)).toEqual([]);
  });
});
