import { mkdtempSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { repoRoot, resetEnvCache } from "@sas/config";
import {
  activateModelVersion,
  disconnectPrisma,
  ImageRejectedError,
  ingestImage,
  MAX_IMAGE_PIXELS,
  prisma,
  registerModelVersion,
} from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import { storage } from "@sas/storage";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAndRequestEmbedding, requestPendingEmbeddings } from "./ingest";

// Originals go to a throwaway DATA_DIR; env() is parsed lazily, so setting it here is early enough.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "sas-ingest-"));
process.env.DATA_DIR = dataDir;
resetEnvCache();

const fixtures = path.resolve(repoRoot, "fixtures/images");
const jobIds: string[] = [];

/** A PNG whose header states the given size, with no pixel data worth the name. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(Buffer.alloc(0))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Every file under DATA_DIR/storage, so a test can prove a refusal wrote nothing. */
async function storedFiles(): Promise<string[]> {
  const root = path.join(dataDir, "storage");
  try {
    return (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => path.join(d.parentPath, d.name))
      .sort();
  } catch {
    return [];
  }
}

async function newProject() {
  return prisma().project.create({ data: { name: `ingest-${Math.random().toString(36).slice(2)}` } });
}

const ingest = (projectId: string, filename: string, bytes: Uint8Array) =>
  ingestAndRequestEmbedding(prisma(), storage(), { projectId, filename, bytes });

let dog: Buffer;
/** Other test files share this database; put back whichever model version they left active. */
let previouslyActive: string | null = null;

beforeAll(async () => {
  dog = await readFile(path.join(fixtures, "dog.jpg"));
  previouslyActive = (await prisma().modelVersion.findFirst({ where: { isActive: true } }))?.id ?? null;
});

afterAll(async () => {
  if (previouslyActive) await activateModelVersion(prisma(), previouslyActive);
  // Leave no embed jobs behind for worker tests that run later against the same Redis database.
  await Promise.all(jobIds.map((id) => queue("embed").remove(id)));
  await closeQueues();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

describe("ingest without any model version", () => {
  it("records the image as uploaded and says why no embedding was asked for", async () => {
    await prisma().modelVersion.updateMany({ data: { isActive: false } });
    const project = await newProject();
    const outcome = await ingest(project.id, "dog.jpg", dog);
    expect(outcome.status).toBe("created");
    expect(outcome.image.status).toBe("uploaded");
    expect(outcome.embedding).toEqual({ queued: false, reason: expect.stringMatching(/no model version/) });

    // Once a model is active, uploading the same file again asks for the missing embedding.
    const model = await registerModelVersion(prisma(), {
      name: "ingest-test-model",
      encoderPath: "encoder.onnx",
      encoderSha256: "a".repeat(64),
      decoderPath: "decoder.onnx",
      decoderSha256: "b".repeat(64),
    });
    await activateModelVersion(prisma(), model.id);
    const again = await ingest(project.id, "dog-again.jpg", dog);
    expect(again.status).toBe("duplicate");
    expect(again.image.id).toBe(outcome.image.id);
    expect(again.embedding).toEqual({ queued: true, modelVersionId: model.id });
    jobIds.push(`embed-${outcome.image.id}-${model.id}`);
  });
});

describe("ingest with an active model version", () => {
  let modelVersionId: string;
  beforeAll(async () => {
    const active = await prisma().modelVersion.findFirstOrThrow({ where: { isActive: true } });
    modelVersionId = active.id;
  });

  it("asks again for the embeddings of images left uploaded (e.g. seeded ones)", async () => {
    const project = await newProject();
    const bytes = await sharp(dog).jpeg({ quality: 64 }).toBuffer();
    // Recorded the way the seed does it: stored, with no job asked for.
    const { image } = await ingestImage(prisma(), storage(), {
      projectId: project.id,
      filename: "seeded.jpg",
      bytes,
    });
    const jobId = `embed-${image.id}-${modelVersionId}`;
    jobIds.push(jobId);
    expect(await queue("embed").getJob(jobId)).toBeUndefined();
    expect(await requestPendingEmbeddings(prisma(), { projectId: project.id })).toEqual({
      requested: 1,
      waitingForModel: 0,
    });
    expect((await queue("embed").getJob(jobId))?.data).toEqual({ imageId: image.id, modelVersionId });
  });

  it("stores a good image, records its size, and queues its embed job", async () => {
    const project = await newProject();
    const outcome = await ingest(project.id, "photos/dog.jpg", dog);
    expect(outcome.status).toBe("created");
    expect(outcome.image).toMatchObject({
      filename: "dog.jpg",
      mimeType: "image/jpeg",
      width: 800,
      height: 534,
      orientation: 1,
      sizeBytes: dog.byteLength,
      status: "uploaded",
    });
    expect(outcome.embedding).toEqual({ queued: true, modelVersionId });

    const row = await prisma().image.findUniqueOrThrow({ where: { id: outcome.image.id } });
    expect(await storage().get(row.storageKey)).toEqual(dog);

    const jobId = `embed-${row.id}-${modelVersionId}`;
    jobIds.push(jobId);
    const job = await queue("embed").getJob(jobId);
    expect(job?.name).toBe("embed-image@v1");
    expect(job?.data).toEqual({ imageId: row.id, modelVersionId });
  });

  it("a second upload of the same bytes is a duplicate: one row, one job", async () => {
    const project = await newProject();
    const first = await ingest(project.id, "a.jpg", dog);
    jobIds.push(`embed-${first.image.id}-${modelVersionId}`);
    const second = await ingest(project.id, "b.jpg", dog);
    expect(second.status).toBe("duplicate");
    expect(second.image.id).toBe(first.image.id);
    expect(second.image.filename).toBe("a.jpg");
    // Still "uploaded" (no worker runs here), so the duplicate asks again: the job id dedupes it.
    expect(second.embedding).toEqual({ queued: true, modelVersionId });
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(1);
    const jobs = await queue("embed").getJobs(["waiting", "delayed", "prioritized"]);
    expect(jobs.filter((j) => j.data.imageId === first.image.id)).toHaveLength(1);
  });

  it("two uploads of the same new file racing leave one row", async () => {
    const project = await newProject();
    const bytes = await sharp(dog).jpeg({ quality: 71 }).toBuffer();
    const results = await Promise.all([
      ingest(project.id, "x.jpg", bytes),
      ingest(project.id, "y.jpg", bytes),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["created", "duplicate"]);
    jobIds.push(`embed-${results[0]!.image.id}-${modelVersionId}`);
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(1);
  });

  it("records EXIF orientation 6 with width and height swapped", async () => {
    const project = await newProject();
    const rotated = await sharp(dog).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const outcome = await ingest(project.id, "rotated.jpg", rotated);
    jobIds.push(`embed-${outcome.image.id}-${modelVersionId}`);
    expect(outcome.image).toMatchObject({ width: 534, height: 800, orientation: 6 });
  });

  const bad: [string, string, () => Promise<Uint8Array> | Uint8Array, RegExp][] = [
    [
      "not an image",
      "notes.jpg",
      () => Buffer.from("these are my notes, not a picture\n"),
      /not a readable image/,
    ],
    ["a truncated JPEG", "half.jpg", () => dog.subarray(0, dog.byteLength >> 1), /image data is damaged/],
    ["zero bytes", "empty.jpg", () => new Uint8Array(0), /the file is empty/],
    [
      "a decompression bomb",
      "bomb.png",
      // 12000x12000 of one colour: 144 MP, a few hundred KB on disk.
      () =>
        sharp({
          create: { width: 12_000, height: 12_000, channels: 3, background: "#808080" },
          limitInputPixels: false,
        })
          .png({ compressionLevel: 9 })
          .toBuffer(),
      new RegExp(
        `too many pixels \\(12000x12000; the limit is ${MAX_IMAGE_PIXELS.toLocaleString("en-US")}\\)`,
      ),
    ],
    ["a 0x0 image", "zero.png", () => pngHeader(0, 0), /the image has no pixels \(0x0\)/],
    [
      "a 1x50000 image",
      "thin.png",
      () =>
        sharp({ create: { width: 1, height: 50_000, channels: 3, background: "#fff" } })
          .png()
          .toBuffer(),
      /too small \(1x50000/,
    ],
    [
      "a 10x5000 image",
      "sliver.png",
      () =>
        sharp({ create: { width: 10, height: 5000, channels: 3, background: "#fff" } })
          .png()
          .toBuffer(),
      /aspect ratio over 50:1 \(10x5000\)/,
    ],
  ];

  it.each(bad)("refuses %s with a clear reason and writes nothing", async (_what, filename, make, reason) => {
    const project = await newProject();
    const bytes = await make();
    const before = await storedFiles();
    const error = await ingest(project.id, filename, bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageRejectedError);
    expect((error as ImageRejectedError).filename).toBe(filename);
    expect((error as ImageRejectedError).reason).toMatch(reason);
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(0);
    expect(await storedFiles()).toEqual(before);
  });
});
