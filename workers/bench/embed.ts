// npm run bench:embed -- [--images DIR] [--count N] [--json]
// N images through the real upload path, BullMQ queue and a worker process, then the bare encoder loop
// (decoded images in memory, no queue, no storage) on the same images in the same run.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "@sas/config";
import { createPrisma, ingestImage, registerModelVersion } from "@sas/db";
import { migrate } from "@sas/db/migrate";
import { createScratchDatabase } from "@sas/db/scratch";
import { decodeImage, defaultModelFiles, NodeSam } from "@sas/sam/node";
import { LocalDiskStorage } from "@sas/storage";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";

const args = z
  .object({
    images: z.string().default(path.resolve(repoRoot, "fixtures/coco-mval-dev/img")),
    count: z.coerce.number().int().min(1).max(1000).default(16),
    json: z.boolean().default(false),
  })
  .parse(
    parseArgs({
      options: { images: { type: "string" }, count: { type: "string" }, json: { type: "boolean" } },
    }).values,
  );

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function main() {
  const files = (await readdir(args.images)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
  if (files.length < args.count + 1)
    throw new Error(`${args.images} has ${files.length} images; need ${args.count + 1}`);
  const warmup = files[0]!;
  const chosen = files.slice(1, args.count + 1);

  const scratch = await createScratchDatabase(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    "sas_bench_embed",
  );
  const dbUrl = scratch.url;
  const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/12";
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-bench-embed-"));
  const redis = new Redis(redisUrl);
  await redis.flushdb();

  const db = createPrisma(dbUrl.toString(), { max: 2 });
  const queue = new Queue("embed", { connection: redis });
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    await migrate(dbUrl.toString());
    const model = await registerModelVersion(db, { name: "bench", ...defaultModelFiles() });
    const project = await db.project.create({ data: { name: "bench" } });
    const blobs = new LocalDiskStorage(path.join(dataDir, "storage"));
    const ingest = async (file: string) =>
      (
        await ingestImage(db, blobs, {
          projectId: project.id,
          filename: file,
          bytes: await readFile(path.join(args.images, file)),
        })
      ).image.id;
    const warmupId = await ingest(warmup);
    const imageIds: string[] = [];
    for (const file of chosen) imageIds.push(await ingest(file));

    worker = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "workers/src/main.ts")], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL: redisUrl,
        DATA_DIR: dataDir,
        WORKER_QUEUES: "embed",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const add = (imageId: string) =>
      queue.add(
        "embed-image@v1",
        { imageId, modelVersionId: model.id },
        { jobId: `embed-${imageId}`, attempts: 1 },
      );
    const waitReady = async (ids: string[]) => {
      while ((await db.image.count({ where: { id: { in: ids }, status: "ready" } })) < ids.length) {
        if ((await db.image.count({ where: { id: { in: ids }, status: "failed" } })) > 0)
          throw new Error("a job failed");
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // The first job loads the model; it is not part of the measurement.
    await add(warmupId);
    await waitReady([warmupId]);

    const started = performance.now();
    await Promise.all(imageIds.map(add));
    await waitReady(imageIds);
    const seconds = (performance.now() - started) / 1000;
    const jobs = await Promise.all(imageIds.map((id) => queue.getJob(`embed-${id}`)));
    const serviceMs = jobs.map((job) => (job?.finishedOn ?? 0) - (job?.processedOn ?? 0));
    const status = await readFile(`/proc/${worker.pid}/status`, "utf8").catch(() => "");
    const peakMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
    worker.kill("SIGTERM");
    await new Promise((r) => worker?.once("exit", r));
    worker = undefined;

    // Bare loop: same images, already decoded, straight into the encoder.
    const sam = await NodeSam.load(defaultModelFiles());
    const decoded = await Promise.all(
      chosen.map(async (f) => decodeImage(await readFile(path.join(args.images, f)))),
    );
    await sam.encode(decoded[0]!);
    const bareMs: number[] = [];
    const bareStart = performance.now();
    for (const image of decoded) {
      const t = performance.now();
      await sam.encode(image);
      bareMs.push(performance.now() - t);
    }
    const bareSeconds = (performance.now() - bareStart) / 1000;
    await sam.release();

    const result = {
      provider: process.env.ORT_EXECUTION_PROVIDER ?? "cpu",
      images: imageIds.length,
      imagesPerSecond: imageIds.length / seconds,
      p50: percentile(serviceMs, 50),
      p95: percentile(serviceMs, 95),
      peakWorkerMiB: peakMiB,
      bareImagesPerSecond: decoded.length / bareSeconds,
      bareP50: percentile(bareMs, 50),
      bareP95: percentile(bareMs, 95),
      ratio: imageIds.length / seconds / (decoded.length / bareSeconds),
    };
    const rows: [string, string][] = [
      ["provider", result.provider],
      ["images", String(result.images)],
      ["queue+worker images/s", result.imagesPerSecond.toFixed(3)],
      ["  per image p50 / p95 (ms)", `${result.p50.toFixed(0)} / ${result.p95.toFixed(0)}`],
      ["  peak worker memory (MiB)", result.peakWorkerMiB.toFixed(0)],
      ["bare encoder images/s", result.bareImagesPerSecond.toFixed(3)],
      ["  per image p50 / p95 (ms)", `${result.bareP50.toFixed(0)} / ${result.bareP95.toFixed(0)}`],
      ["ratio (queue / bare)", result.ratio.toFixed(3)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n"));
    if (args.json) console.log(JSON.stringify(result));
  } finally {
    worker?.kill("SIGKILL");
    await queue.close();
    redis.disconnect();
    await db.$disconnect();
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`bench:embed: ${error.message}`);
  process.exit(1);
});
