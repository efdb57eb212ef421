import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { logger, resetEnvCache } from "@sas/config";
import {
  cancelExport,
  claimExport,
  createExport,
  disconnectPrisma,
  type ExportParamsInput,
  exportKeyPrefix,
  exportSummary,
  ingestImage,
  prisma,
} from "@sas/db";
import { ExportCancelledError, storageSink, writeSa1bExport } from "@sas/db/export";
import { closeQueues, enqueueExport, exportJobId, queue, removeExportJob } from "@sas/queue";
import {
  type CocoRle,
  decodeRle,
  encodeMask,
  maskExtent,
  rleIoU,
  type Sa1bExportFile,
  sa1bExportFileSchema,
} from "@sas/sa1b";
import { untarBytes } from "@sas/sa1b/import/testing";
import { blobMask, rectMask, seededRandom } from "@sas/sa1b/test-utils";
import { LocalDiskStorage, storage } from "@sas/storage";
import { QueueEvents, type Worker } from "bullmq";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "./run-worker";

process.env.LOG_LEVEL ??= "warn";

interface SeededMask {
  id: string;
  rle: CocoRle;
  imageId: string;
}

describe("SA-1B export through the queue and a real worker", () => {
  let dataDir: string;
  let events: QueueEvents;
  let worker: Worker;
  let projectId: string;
  let userId: string;
  const kept: SeededMask[] = [];
  const images: { id: string; width: number; height: number }[] = [];

  async function seedImage(width: number, height: number, seed: number, options: { alpha?: boolean } = {}) {
    const channels = options.alpha ? 4 : 3;
    const rng = seededRandom(seed);
    const pixels = Buffer.alloc(width * height * channels);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(rng() * 256);
    const encoded = await sharp(pixels, { raw: { width, height, channels } })
      [options.alpha ? "png" : "jpeg"]()
      .toBuffer();
    const { image } = await ingestImage(prisma(), storage(), {
      projectId,
      filename: `synthetic-${seed}.${options.alpha ? "png" : "jpg"}`,
      bytes: encoded,
    });
    images.push({ id: image.id, width, height });
    return image;
  }

  async function seedMask(
    image: { id: string; width: number; height: number },
    data: Partial<{
      source: "manual" | "semi_auto" | "auto";
      stage: "assisted_manual" | "semi_automatic" | "fully_automatic";
      status: "proposed" | "accepted" | "rejected" | "deleted";
      label: string;
      reviewDecision: "approved" | "corrected" | "rejected";
      createdAt: Date;
      activeMs: number;
    }>,
    seed: number,
  ) {
    const mask = blobMask(seededRandom(seed), image.width, image.height, 2);
    const rle = encodeMask(mask);
    const row = await prisma().mask.create({
      data: {
        imageId: image.id,
        rle: { size: rle.size, counts: rle.counts },
        bbox: [0, 0, 1, 1],
        area: 1,
        predictedIou: 0.91,
        stabilityScore: 0.96,
        pointCoords: [[5, 6]],
        cropBox: [],
        source: data.source ?? "auto",
        stage: data.stage ?? "fully_automatic",
        status: data.status ?? "accepted",
        label: data.label ?? "",
        reviewDecision: data.reviewDecision ?? null,
        authorId: userId,
        ...(data.createdAt ? { createdAt: data.createdAt } : {}),
      },
    });
    if (data.activeMs !== undefined) {
      await prisma().maskTiming.create({
        data: {
          maskId: row.id,
          annotatorId: userId,
          startedAt: new Date(),
          finishedAt: new Date(),
          activeMs: data.activeMs,
        },
      });
    }
    return { id: row.id, rle, imageId: image.id };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-export-"));
    process.env.DATA_DIR = dataDir;
    resetEnvCache();
    const db = prisma();
    const tag = Date.now();
    projectId = (await db.project.create({ data: { name: `export-${tag}` } })).id;
    userId = (
      await db.user.create({ data: { email: `export-${tag}@t.local`, name: "exporter", role: "manager" } })
    ).id;
    const a = await seedImage(64, 48, 1);
    const b = await seedImage(40, 60, 2, { alpha: true });
    const c = await seedImage(50, 50, 3);
    const empty = await seedImage(30, 30, 4);
    kept.push(await seedMask(a, { source: "auto" }, 10));
    kept.push(
      await seedMask(
        a,
        {
          source: "manual",
          stage: "assisted_manual",
          label: "cat",
          activeMs: 4000,
          reviewDecision: "approved",
        },
        11,
      ),
    );
    kept.push(await seedMask(b, { source: "semi_auto", stage: "semi_automatic", activeMs: 2000 }, 12));
    kept.push(
      await seedMask(c, { source: "auto", label: "cat", createdAt: new Date("2020-01-01T00:00:00Z") }, 13),
    );
    // Never exported by default: deleted, rejected, proposed (and the image with only those).
    await seedMask(empty, { status: "deleted" }, 14);
    await seedMask(empty, { status: "rejected" }, 15);
    await seedMask(c, { status: "proposed" }, 16);
    events = new QueueEvents("export", { connection: { url: process.env.REDIS_URL! } });
    await events.waitUntilReady();
    worker = startWorker({
      queue: "export",
      redisUrl: process.env.REDIS_URL!,
      concurrency: 1,
      log: logger("test"),
    });
  });

  afterAll(async () => {
    await worker?.close();
    await events?.close();
    await closeQueues();
    await disconnectPrisma();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function runExport(params: ExportParamsInput) {
    const created = await createExport(prisma(), { id: userId }, { projectId, params });
    await enqueueExport(created.id);
    const job = await queue("export").getJob(exportJobId(created.id));
    await job!.waitUntilFinished(events, 60_000);
    return { id: created.id, summary: await exportSummary(prisma(), created.id) };
  }

  const stored = (exportId: string, name: string) => storage().get(`${exportKeyPrefix(exportId)}${name}`);

  it("writes shards of sa_<n>.jpg + sa_<n>.json that validate and decode to the stored masks, plus manifest and file list", async () => {
    const { id, summary } = await runExport({ options: { shardSize: 2, coco: true } });
    expect(summary).toMatchObject({ status: "completed", imageCount: 3, maskCount: 4, progress: 1 });
    expect(summary.files).toEqual([
      "sa_000000.tar",
      "sa_000001.tar",
      "manifest.jsonl",
      "files.txt",
      "coco.json",
    ]);

    const members = new Map<string, Buffer>();
    for (const shard of ["sa_000000.tar", "sa_000001.tar"]) {
      for (const [name, bytes] of await untarBytes(await stored(id, shard))) members.set(name, bytes);
    }
    expect([...members.keys()].sort()).toEqual(
      ["sa_1.jpg", "sa_1.json", "sa_2.jpg", "sa_2.json", "sa_3.jpg", "sa_3.json"].sort(),
    );
    const byRle = new Map(kept.map((m) => [m.rle.counts, m]));
    const seen = new Set<string>();
    const annotationIds = new Set<number>();
    for (let n = 1; n <= 3; n++) {
      const file: Sa1bExportFile = sa1bExportFileSchema.parse(
        JSON.parse(members.get(`sa_${n}.json`)!.toString()),
      );
      expect(file.image.file_name).toBe(`sa_${n}.jpg`);
      const jpeg = await sharp(members.get(`sa_${n}.jpg`)!).metadata();
      expect([jpeg.format, jpeg.width, jpeg.height, jpeg.hasAlpha]).toEqual([
        "jpeg",
        file.image.width,
        file.image.height,
        false,
      ]);
      for (const a of file.annotations) {
        annotationIds.add(a.id);
        const original = byRle.get(a.segmentation.counts);
        expect(original, "every exported mask is a stored, exportable one").toBeDefined();
        seen.add(original!.id);
        // Identical pixels: same RLE size and IoU 1 on the runs.
        expect(a.segmentation.size).toEqual(original!.rle.size);
        expect(rleIoU(a.segmentation, original!.rle)).toBe(1);
        const e = maskExtent(decodeRle(a.segmentation))!;
        expect(a.bbox).toEqual([e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0]);
        expect(a.crop_box).toEqual([0, 0, file.image.width, file.image.height]);
        expect(a.point_coords).toEqual([[5, 6]]);
      }
    }
    expect(seen.size).toBe(4);
    expect(annotationIds.size).toBe(4);

    const lines = (await stored(id, "manifest.jsonl"))
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    const [head, ...rows] = lines;
    expect(head).toMatchObject({
      kind: "summary",
      shards: ["sa_000000.tar", "sa_000001.tar"],
      totals: { images: 3, masks: 4, bySource: { auto: 2, manual: 1, semi_auto: 1 } },
      timePerMask: { count: 2, meanMs: 3000, medianMs: 3000, p90Ms: 4000 },
      reviewOutcomes: { approved: 1, unreviewed: 3 },
    });
    expect(head.totals.train + head.totals.val).toBe(3);
    expect(rows.map((r) => [r.shard, r.members.image])).toEqual([
      ["sa_000000.tar", "sa_1.jpg"],
      ["sa_000000.tar", "sa_2.jpg"],
      ["sa_000001.tar", "sa_3.jpg"],
    ]);
    expect((await stored(id, "files.txt")).toString()).toBe("sa_1.jpg\nsa_2.jpg\nsa_3.jpg\n");
    const coco = JSON.parse((await stored(id, "coco.json")).toString());
    expect([coco.images.length, coco.annotations.length]).toEqual([3, 4]);
    expect(coco.categories.map((c: { name: string }) => c.name).sort()).toEqual(["cat", "object"]);
  });

  it("filters by source preset, stage, label, review, date and status", async () => {
    const count = async (params: ExportParamsInput) => (await runExport(params)).summary.maskCount;
    expect(await count({ filters: { sourcePreset: "automatic" } })).toBe(2);
    expect(await count({ filters: { stages: ["semi_automatic"] } })).toBe(1);
    expect(await count({ filters: { label: "cat" } })).toBe(2);
    expect(await count({ filters: { reviewedOnly: true } })).toBe(1);
    expect(await count({ filters: { createdTo: new Date("2021-01-01T00:00:00Z") } })).toBe(1);
    expect(await count({ filters: { statuses: ["accepted", "proposed"] } })).toBe(5);
    const none = await runExport({ filters: { label: "no such label" } });
    expect(none.summary).toMatchObject({
      status: "completed",
      imageCount: 0,
      files: ["manifest.jsonl", "files.txt"],
    });
  });

  it("downsamples: shortest side N for the JSON, the JPEG and every mask; bboxes of their own masks", async () => {
    const { id, summary } = await runExport({ options: { shortestSide: 20 } });
    expect(summary.maskCount).toBeGreaterThan(0);
    const members = await untarBytes(await stored(id, "sa_000000.tar"));
    for (const [name, bytes] of members) {
      if (!name.endsWith(".json")) continue;
      const file = sa1bExportFileSchema.parse(JSON.parse(bytes.toString()));
      expect(Math.min(file.image.width, file.image.height)).toBe(20);
      const jpeg = await sharp(members.get(file.image.file_name)!).metadata();
      expect([jpeg.width, jpeg.height]).toEqual([file.image.width, file.image.height]);
      for (const a of file.annotations) {
        const e = maskExtent(decodeRle(a.segmentation))!;
        expect(a.bbox).toEqual([e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0]);
      }
    }
  });

  it("a cancelled export is not run; a cancel between batches stops the writer and stores no shard", async () => {
    const db = prisma();
    const created = await createExport(db, { id: userId }, { projectId });
    await cancelExport(db, projectId, created.id);
    await enqueueExport(created.id);
    const job = await queue("export").getJob(exportJobId(created.id));
    expect(await job!.waitUntilFinished(events, 60_000)).toEqual({
      skipped: "the export was cancelled, finished or deleted",
    });
    expect((await exportSummary(db, created.id)).status).toBe("cancelled");
    expect(await removeExportJob(created.id)).toBeGreaterThanOrEqual(0);

    const running = await createExport(
      db,
      { id: userId },
      { projectId, params: { options: { shardSize: 1 } } },
    );
    const claimed = (await claimExport(db, running.id))!;
    const out = await mkdtemp(path.join(os.tmpdir(), "sas-export-cancel-"));
    const dir = new LocalDiskStorage(out);
    let batches = 0;
    await expect(
      writeSa1bExport(db, storage(), dir, claimed, {
        batchSize: 1,
        onProgress: async () => {
          batches += 1;
          if (batches === 1) await cancelExport(db, projectId, running.id);
        },
        shouldStop: async () => (await exportSummary(db, running.id)).status === "cancelled",
      }),
    ).rejects.toBeInstanceOf(ExportCancelledError);
    // The first shard (one image) was finished before the cancel; nothing after it, no manifest.
    expect(await dir.exists("sa_000000.tar")).toBe(true);
    expect(await dir.exists("sa_000001.tar")).toBe(false);
    expect(await dir.exists("manifest.jsonl")).toBe(false);
    await rm(out, { recursive: true, force: true });
  });

  it("a retry after a crashed attempt claims the export again and rewrites the same files", async () => {
    const db = prisma();
    const created = await createExport(
      db,
      { id: userId },
      { projectId, params: { options: { shardSize: 2 } } },
    );
    // Attempt 1 writes everything, then its worker dies before completing the export.
    const first = (await claimExport(db, created.id))!;
    await writeSa1bExport(db, storage(), storageSink(storage(), exportKeyPrefix(created.id)), first);
    const before = await Promise.all(
      ["sa_000000.tar", "sa_000001.tar", "manifest.jsonl"].map((n) => stored(created.id, n)),
    );
    // BullMQ hands the job to another worker: attempt 2 runs from the start and completes.
    await enqueueExport(created.id);
    const job = await queue("export").getJob(exportJobId(created.id));
    await job!.waitUntilFinished(events, 60_000);
    const summary = await exportSummary(db, created.id);
    expect(summary).toMatchObject({ status: "completed", attempts: 2, imageCount: 3, maskCount: 4 });
    const after = await Promise.all(
      ["sa_000000.tar", "sa_000001.tar", "manifest.jsonl"].map((n) => stored(created.id, n)),
    );
    expect(after.map((bytes, i) => Buffer.compare(bytes, before[i]!))).toEqual([0, 0, 0]);
  });

  it("a destination that fails mid-shard surfaces its own error", async () => {
    const db = prisma();
    const created = await createExport(db, { id: userId }, { projectId });
    const claimed = (await claimExport(db, created.id))!;
    const failing = {
      async put(_name: string, data: Uint8Array | Readable) {
        if (data instanceof Readable) for await (const _chunk of data) throw new Error("disk full");
        return { sizeBytes: 0 };
      },
    };
    await expect(writeSa1bExport(db, storage(), failing, claimed)).rejects.toThrow("disk full");
  });

  it("a stored mask that cannot be exported fails the export for good, with the reason", async () => {
    const db = prisma();
    const bad = await seedImage(20, 20, 5);
    await db.mask.create({
      data: {
        imageId: bad.id,
        rle: encodeMask(rectMask(10, 10, 0, 0, 5, 5)) as object,
        bbox: [0, 0, 4, 4],
        area: 25,
        cropBox: [],
        source: "auto",
        stage: "fully_automatic",
        label: "broken",
      },
    });
    const { summary } = await runExport({ filters: { label: "broken" } }).catch(async () => {
      const rows = await db.export.findMany({
        where: { projectId },
        orderBy: { createdAt: "desc" },
        take: 1,
      });
      // waitUntilFinished rejects for a failed job; the final-failure hook runs just after.
      await new Promise((r) => setTimeout(r, 500));
      return { summary: await exportSummary(db, rows[0]!.id) };
    });
    expect(summary.status).toBe("failed");
    expect(summary.error).toMatch(/is 10x10 but its image is 20x20/);
  });
});
