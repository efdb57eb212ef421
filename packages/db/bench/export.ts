/**
 * bench:export — peak memory of the SA-1B export writer against export size.
 *
 *   npm run bench:export -- [--images 300] [--masks 24] [--shard-size 100] [--json]
 *
 * Seeds a scratch database (on DATABASE_URL's server, dropped at the end) with `--images` synthetic
 * 1024x768 JPEGs, each with `--masks` masks (random ellipses, manual ones timed), stored in a temporary
 * DATA_DIR. Then exports growing prefixes of the project (a quarter, half, all; chosen with the mask
 * date filter) with the real writer, each in a fresh child process so its peak RSS (getrusage maxrss)
 * belongs to that export alone. Prints a table and one JSON line. The claim under test: peak RSS stays
 * flat while the export grows (streaming: keyset batches, shards piped to storage, manifest spooled).
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type CocoRle, encodeMask } from "@sas/sa1b";
import { seededRandom } from "@sas/sa1b/test-utils";
import { imageKey, LocalDiskStorage } from "@sas/storage";
import sharp from "sharp";
import { createPrisma } from "../src/client";
import { exportParamsSchema } from "../src/domain/exports";
import { writeSa1bExport } from "../src/export/writer";
import { migrate } from "../src/migrate";
import { createScratchDatabase } from "../src/testing/scratch-database";

const WIDTH = 1024;
const HEIGHT = 768;
const BASE_TIME = Date.UTC(2026, 0, 1);
const self = fileURLToPath(import.meta.url);

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "300" },
    masks: { type: "string", default: "24" },
    "shard-size": { type: "string", default: "100" },
    json: { type: "boolean", default: false },
    // Internal: one export run in a child process.
    child: { type: "boolean", default: false },
    db: { type: "string" },
    data: { type: "string" },
    upto: { type: "string" },
  },
});

interface RunResult {
  images: number;
  masks: number;
  exportBytes: number;
  seconds: number;
  peakRssMb: number;
  baselineRssMb: number;
}

/** A pool of ellipse masks (encoding is the slow part of seeding, so masks are reused across images). */
function maskPool(count: number): CocoRle[] {
  const rng = seededRandom(7);
  return Array.from({ length: count }, () => {
    const data = new Uint8Array(WIDTH * HEIGHT);
    const cx = rng() * WIDTH;
    const cy = rng() * HEIGHT;
    const rx = 20 + rng() * 200;
    const ry = 20 + rng() * 150;
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(HEIGHT, cy + ry); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(WIDTH, cx + rx); x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) data[y * WIDTH + x] = 1;
      }
    }
    return encodeMask({ width: WIDTH, height: HEIGHT, data });
  });
}

async function syntheticJpeg(seed: number): Promise<Buffer> {
  const rng = seededRandom(seed);
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  const [r, g, b] = [rng() * 255, rng() * 255, rng() * 255];
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      // Gradients plus noise, so the JPEGs weigh about what photos of this size do.
      const noise = rng() * 48;
      raw[i] = (r + x / 4 + noise) % 256;
      raw[i + 1] = (g + y / 3 + noise) % 256;
      raw[i + 2] = (b + ((x ^ y) & 63) + noise) % 256;
    }
  }
  return sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function seed(dbUrl: string, dataDir: string, images: number, masksPerImage: number) {
  const db = createPrisma(dbUrl, { max: 2 });
  const blobs = new LocalDiskStorage(path.join(dataDir, "storage"));
  const project = await db.project.create({ data: { name: "bench-export" } });
  const author = await db.user.create({
    data: { email: "bench@export.local", name: "bench", role: "manager" },
  });
  const pool = maskPool(48);
  const rng = seededRandom(11);
  for (let i = 0; i < images; i++) {
    const bytes = await syntheticJpeg(i + 1);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const storageKey = imageKey(sha256, "jpg");
    await blobs.put(storageKey, bytes);
    const image = await db.image.create({
      data: {
        projectId: project.id,
        filename: `bench-${i}.jpg`,
        mimeType: "image/jpeg",
        width: WIDTH,
        height: HEIGHT,
        sizeBytes: BigInt(bytes.byteLength),
        sha256,
        storageKey,
        status: "ready",
      },
    });
    const createdAt = new Date(BASE_TIME + i * 60_000);
    const masks = Array.from({ length: masksPerImage }, (_, k) => {
      const rle = pool[Math.floor(rng() * pool.length)]!;
      const manual = k % 4 === 0;
      return {
        id: randomUUID(),
        imageId: image.id,
        rle: { size: rle.size, counts: rle.counts },
        bbox: [0, 0, 1, 1],
        area: 1,
        predictedIou: 0.9,
        stabilityScore: 0.95,
        pointCoords: [[WIDTH / 2, HEIGHT / 2]],
        cropBox: [],
        source: manual ? ("manual" as const) : ("auto" as const),
        stage: manual ? ("assisted_manual" as const) : ("fully_automatic" as const),
        authorId: author.id,
        createdAt,
      };
    });
    await db.mask.createMany({ data: masks });
    await db.maskTiming.createMany({
      data: masks
        .filter((m) => m.source === "manual")
        .map((m) => ({
          maskId: m.id,
          annotatorId: author.id,
          startedAt: createdAt,
          finishedAt: createdAt,
          activeMs: 2000 + Math.floor(rng() * 20_000),
        })),
    });
  }
  await db.$disconnect();
}

/** Child: one export of the first `upto` images, into a temporary folder; prints its RunResult. */
async function child(): Promise<void> {
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const db = createPrisma(args.db!, { max: 2 });
  const project = await db.project.findFirstOrThrow({ where: { name: "bench-export" } });
  const upto = Number(args.upto);
  const out = await mkdtemp(path.join(os.tmpdir(), "sas-bench-export-out-"));
  const started = performance.now();
  try {
    const result = await writeSa1bExport(
      db,
      new LocalDiskStorage(path.join(args.data!, "storage")),
      new LocalDiskStorage(out),
      {
        exportId: randomUUID(),
        projectId: project.id,
        projectName: project.name,
        params: exportParamsSchema.parse({
          filters: { createdTo: new Date(BASE_TIME + (upto - 1) * 60_000) },
          options: { shardSize: Number(args["shard-size"]) },
        }),
        createdAt: new Date(),
      },
    );
    const run: RunResult = {
      images: result.images,
      masks: result.masks,
      exportBytes: result.sizeBytes,
      seconds: (performance.now() - started) / 1000,
      // maxRSS is in kilobytes on Linux.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      baselineRssMb,
    };
    process.stdout.write(`${JSON.stringify(run)}\n`);
  } finally {
    await db.$disconnect();
    await rm(out, { recursive: true, force: true });
  }
}

function runChild(dbUrl: string, dataDir: string, upto: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        self,
        "--child",
        "--db",
        dbUrl,
        "--data",
        dataDir,
        "--upto",
        String(upto),
        "--shard-size",
        args["shard-size"]!,
      ],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, LOG_LEVEL: "warn" } },
    );
    let out = "";
    proc.stdout.on("data", (c) => {
      out += c;
    });
    proc.on("error", reject);
    proc.on("close", (code) => {
      if (code !== 0) return reject(new Error(`export child exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as RunResult);
    });
  });
}

async function main(): Promise<void> {
  const images = Number(args.images);
  const masks = Number(args.masks);
  const scratch = await createScratchDatabase(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    "sas_bench_export",
  );
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-bench-export-"));
  const log = (line: string) => process.stderr.write(`bench:export: ${line}\n`);
  try {
    await migrate(scratch.url);
    log(`seeding ${images} images x ${masks} masks (${WIDTH}x${HEIGHT})`);
    const seedStart = performance.now();
    await seed(scratch.url, dataDir, images, masks);
    log(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const sizes = [...new Set([Math.ceil(images / 4), Math.ceil(images / 2), images])];
    const runs: RunResult[] = [];
    for (const upto of sizes) {
      log(`exporting ${upto} images`);
      runs.push(await runChild(scratch.url, dataDir, upto));
    }
    if (!args.json) {
      const rows = runs.map((r) =>
        [
          String(r.images).padStart(7),
          String(r.masks).padStart(7),
          (r.exportBytes / 2 ** 20).toFixed(1).padStart(10),
          r.seconds.toFixed(1).padStart(8),
          r.baselineRssMb.toFixed(0).padStart(13),
          r.peakRssMb.toFixed(0).padStart(12),
        ].join(" "),
      );
      process.stdout.write(
        ` images   masks export MB  seconds  start RSS MB  peak RSS MB\n${rows.join("\n")}\n`,
      );
    }
    const peak = runs.map((r) => r.peakRssMb);
    const growth = peak[peak.length - 1]! - peak[0]!;
    process.stdout.write(
      `${JSON.stringify({
        bench: "export",
        imageSize: [WIDTH, HEIGHT],
        masksPerImage: masks,
        shardSize: Number(args["shard-size"]),
        runs,
        peakRssGrowthMb: Number(growth.toFixed(1)),
        exportGrowthMb: Number(
          ((runs[runs.length - 1]!.exportBytes - runs[0]!.exportBytes) / 2 ** 20).toFixed(1),
        ),
      })}\n`,
    );
  } finally {
    await scratch.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (args.child) await child();
else await main();
