import { mkdtempSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resetEnvCache } from "@sas/config";
import {
  disconnectPrisma,
  importImageWithMasks,
  MaskDomainError,
  prisma,
  probeImage,
  registerModelVersion,
  storedRleSchema,
} from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import { type BinaryMask, decodeRle, encodeMask, rleToBbox } from "@sas/sa1b";
import { annotationFor, jsonBytes, sa1bFileFor, type TarMember, tarBytes } from "@sas/sa1b/import/testing";
import { blobMask, rectMask, seededRandom } from "@sas/sa1b/test-utils";
import { storage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSa1b, type Sa1bImportSummary } from "./sa1b-import";
import { bits, cocoImage, cocoMask, fixtureImage } from "./sa1b-import.fixtures";

const work = mkdtempSync(path.join(os.tmpdir(), "sas-sa1b-import-"));
process.env.DATA_DIR = path.join(work, "data");
resetEnvCache();

const unique = Math.random().toString(36).slice(2);
let modelVersionId: string;
const projectIds: string[] = [];

async function newProject(): Promise<string> {
  const project = await prisma().project.create({
    data: { name: `sa1b-import-${unique}-${projectIds.length}`, modelVersionId },
  });
  projectIds.push(project.id);
  return project.id;
}

const AIRPLANE = "airplane00_000000281693";
const BEAR = "bear00_000000243075";
const BENCH = "bench00_000000322829";
const BACKPACK = "backpack00_000000032610";

/** The masks each good image is imported with, to compare pixels after the round trip. */
const originals = new Map<string, BinaryMask[]>();
let shard: string;
let truncatedShard: string;
let looseFolder: string;
const members: TarMember[] = [];

async function sizeOf(bytes: Uint8Array) {
  const { width, height } = await probeImage("probe.jpg", bytes);
  return { width, height };
}

/**
 * Good: sa_1 (a real COCO object mask with SA-1B's defaults, and a blob mask with our extra keys, a
 * wrong area and a made-up bbox, both recomputed on import) and sa_2. Bad, each with its own photo so
 * nothing of it could hide behind a good file's row: a mask of the wrong size, invalid counts, a
 * negative bbox, a missing image, and a JSON whose stated size is not the image's.
 */
async function buildInputs(): Promise<void> {
  const airplane = await cocoImage(AIRPLANE);
  const airplaneMask = await cocoMask(AIRPLANE);
  const airplaneSize = { width: airplaneMask.width, height: airplaneMask.height };
  const blob = blobMask(seededRandom(7), airplaneMask.width, airplaneMask.height, 5);
  originals.set("sa_1.jpg", [airplaneMask, blob]);
  const sa1 = sa1bFileFor(1, airplaneSize, [
    annotationFor(11, airplaneMask, { point_coords: [[320.5, 240.25]], crop_box: [0, 0, 320, 240] }),
    {
      ...annotationFor(12, blob, { source: "manual", stage: "assisted_manual", label: "blob" }),
      area: 1,
      bbox: [1, 2, 3, 4],
      predicted_iou: 0.875,
      stability_score: 0.5,
    },
  ]);
  const bearMask = await cocoMask(BEAR);
  originals.set("sa_2.jpg", [bearMask]);
  const sa2 = sa1bFileFor(2, { width: bearMask.width, height: bearMask.height }, [
    annotationFor(21, bearMask),
  ]);

  const dog = await fixtureImage("dog.jpg");
  const dogSize = await sizeOf(dog);
  const wrongSize = sa1bFileFor(3, dogSize, [
    annotationFor(31, rectMask(dogSize.width, dogSize.height, 10, 10, 50, 50)),
    annotationFor(32, rectMask(20, 10, 0, 0, 5, 5)),
  ]);
  const groceries = await fixtureImage("groceries.jpg");
  const groceriesSize = await sizeOf(groceries);
  const badCounts = sa1bFileFor(4, groceriesSize, [
    annotationFor(41, rectMask(groceriesSize.width, groceriesSize.height, 0, 0, 9, 9)),
  ]);
  badCounts.annotations[0]!.segmentation.counts = "not*counts";
  const truck = await fixtureImage("truck.jpg");
  const truckSize = await sizeOf(truck);
  const negativeBbox = sa1bFileFor(5, truckSize, [
    { ...annotationFor(51, rectMask(truckSize.width, truckSize.height, 0, 0, 9, 9)), bbox: [-3, 0, 8, 8] },
  ]);
  const missingImage = sa1bFileFor(6, airplaneSize, [annotationFor(61, airplaneMask)]);
  const picture = await fixtureImage("picture1.jpg");
  const pictureSize = await sizeOf(picture);
  const stated = { width: pictureSize.width + 1, height: pictureSize.height };
  const statedWrong = sa1bFileFor(7, stated, [
    annotationFor(71, rectMask(stated.width, stated.height, 1, 1, 4, 4)),
  ]);

  members.push(
    { name: "sa_1.jpg", bytes: airplane },
    { name: "sa_1.json", bytes: jsonBytes(sa1) },
    { name: "sa_2.json", bytes: jsonBytes(sa2) },
    { name: "sa_2.jpg", bytes: await cocoImage(BEAR) },
    { name: "sa_3.jpg", bytes: dog },
    { name: "sa_3.json", bytes: jsonBytes(wrongSize) },
    { name: "sa_4.jpg", bytes: groceries },
    { name: "sa_4.json", bytes: jsonBytes(badCounts) },
    { name: "sa_5.jpg", bytes: truck },
    { name: "sa_5.json", bytes: jsonBytes(negativeBbox) },
    { name: "sa_6.json", bytes: jsonBytes(missingImage) },
    { name: "sa_7.jpg", bytes: picture },
    { name: "sa_7.json", bytes: jsonBytes(statedWrong) },
  );
  shard = path.join(work, "sa_000000.tar");
  await writeFile(shard, await tarBytes(members));

  // A second shard cut inside its last member: sa_8 is whole, sa_9's JSON is not.
  const benchMask = await cocoMask(BENCH);
  originals.set("sa_8.jpg", [benchMask]);
  const backpackMask = await cocoMask(BACKPACK);
  const sa9Json = jsonBytes(sa1bFileFor(9, backpackMask, [annotationFor(91, backpackMask)]));
  const whole = await tarBytes([
    { name: "sa_8.jpg", bytes: await cocoImage(BENCH) },
    { name: "sa_8.json", bytes: jsonBytes(sa1bFileFor(8, benchMask, [annotationFor(81, benchMask)])) },
    { name: "sa_9.jpg", bytes: await cocoImage(BACKPACK) },
    { name: "sa_9.json", bytes: sa9Json },
  ]);
  truncatedShard = path.join(work, "sa_000001.tar");
  const sa9JsonData = whole.length - 1024 - Math.ceil(sa9Json.byteLength / 512) * 512;
  await writeFile(truncatedShard, whole.subarray(0, sa9JsonData + 100));

  // The first shard's files, loose in a folder.
  looseFolder = path.join(work, "loose");
  await mkdir(looseFolder);
  for (const member of members) await writeFile(path.join(looseFolder, member.name), member.bytes);
}

const badFiles = [
  "sa_3.json",
  "sa_4.json",
  "sa_5.json",
  "sa_6.jpg",
  "sa_7.json",
  "sa_000001.tar",
  "sa_9.json",
].sort();

function expectFailures(summary: Sa1bImportSummary) {
  const byFile = Object.fromEntries(summary.failed.map((f) => [f.file, f.error]));
  expect(Object.keys(byFile).sort()).toEqual(badFiles);
  expect(byFile["sa_3.json"]).toBe(
    "annotations.1.segmentation.size: [10, 20] does not match the image's [height, width] [534, 800]",
  );
  expect(byFile["sa_4.json"]).toMatch(/^annotations\.0\.segmentation\.counts: /);
  expect(byFile["sa_5.json"]).toBe("annotations.0.bbox: negative coordinate in [-3, 0, 8, 8]");
  expect(byFile["sa_6.jpg"]).toBe("missing image");
  expect(byFile["sa_7.json"]).toBe(
    "image.width x image.height 770x770 does not match the image's decoded size 769x770",
  );
  expect(byFile["sa_000001.tar"]).toBe("truncated archive after sa_9.jpg");
  expect(byFile["sa_9.json"]).toBe("missing annotation file for sa_9.jpg");
}

const storedMasks = (projectId: string) =>
  prisma().mask.findMany({
    where: { image: { projectId } },
    include: { image: { select: { filename: true } }, timing: true },
    orderBy: [{ image: { filename: "asc" } }, { createdAt: "asc" }],
  });

beforeAll(async () => {
  await buildInputs();
  const model = await registerModelVersion(prisma(), {
    name: `sa1b-import-test-${unique}`,
    encoderPath: "encoder.onnx",
    encoderSha256: "e".repeat(64),
    decoderPath: "decoder.onnx",
    decoderSha256: "f".repeat(64),
  });
  modelVersionId = model.id;
});

afterAll(async () => {
  const images = await prisma().image.findMany({
    where: { projectId: { in: projectIds } },
    select: { id: true },
  });
  await Promise.all(images.map((image) => queue("embed").remove(`embed-${image.id}-${modelVersionId}`)));
  await closeQueues();
  await disconnectPrisma();
  await rm(work, { recursive: true, force: true });
});

describe("importSa1b", () => {
  let projectId: string;

  it("imports the good files of a shard, reports each bad one, and stores nothing of those", async () => {
    projectId = await newProject();
    const lines: string[] = [];
    const summary = await importSa1b({
      db: prisma(),
      blobs: storage(),
      projectId,
      paths: [shard, truncatedShard],
      onProgress: (line) => lines.push(line),
    });
    expectFailures(summary);
    expect(summary).toMatchObject({
      imagesImported: 3,
      imagesDuplicate: 0,
      masksImported: 4,
      masksDuplicate: 0,
    });
    expect(summary.embeddings).toEqual({ requested: 3, notRequested: null });
    expect(lines).toContain("imported   sa_1.jpg (640x481, 2 masks)");

    const images = await prisma().image.findMany({ where: { projectId }, orderBy: { filename: "asc" } });
    expect(images.map((i) => i.filename)).toEqual(["sa_1.jpg", "sa_2.jpg", "sa_8.jpg"]);
    // Nothing of a bad file: no row for its image in this project, no mask of it. (Other test files of the
    // run may import the same COCO photos into their own projects, so the check is per project.)
    const badShas = await Promise.all(
      members
        .filter((m) => /^sa_[3-7]\.jpg$/.test(m.name))
        .map(async (m) => (await probeImage(m.name, m.bytes)).sha256),
    );
    expect(await prisma().image.count({ where: { projectId, sha256: { in: badShas } } })).toBe(0);
    for (const image of images) {
      expect(image.status).toBe("uploaded");
      expect(await queue("embed").getJob(`embed-${image.id}-${modelVersionId}`)).toBeTruthy();
    }

    const masks = await storedMasks(projectId);
    expect(masks.map((m) => m.image.filename)).toEqual(["sa_1.jpg", "sa_1.jpg", "sa_2.jpg", "sa_8.jpg"]);
    for (const mask of masks) {
      expect(mask).toMatchObject({
        status: "accepted",
        authorId: null,
        modelVersionId: null,
        jobId: null,
        timing: null,
      });
    }
    const byLabel = Object.fromEntries(masks.map((m) => [m.label, m]));
    expect(byLabel.blob).toMatchObject({
      source: "manual",
      stage: "assisted_manual",
      predictedIou: 0.875,
      stabilityScore: 0.5,
    });
    // Area and bbox come from the pixels (SAM's bbox: w = last column - first column), not the file.
    const blobMaskOriginal = originals.get("sa_1.jpg")![1]!;
    const [bx, by, bw, bh] = rleToBbox(encodeMask(blobMaskOriginal));
    expect(byLabel.blob!.area).toBe(bits(blobMaskOriginal).reduce((n, v) => n + v, 0));
    expect(byLabel.blob!.bbox).toEqual([bx, by, bw - 1, bh - 1]);
    const defaults = masks.find((m) => m.image.filename === "sa_1.jpg" && m.label === "")!;
    expect(defaults).toMatchObject({
      source: "auto",
      stage: "fully_automatic",
      predictedIou: 0.9,
      stabilityScore: 0.95,
      pointCoords: [[320.5, 240.25]],
      cropBox: [0, 0, 320, 240],
    });
  });

  it("round trip: every stored mask decodes to the imported pixels", async () => {
    const masks = await storedMasks(projectId);
    for (const [filename, expected] of originals) {
      const stored = masks
        .filter((m) => m.image.filename === filename)
        .map((m) => bits(decodeRle(storedRleSchema.parse(m.rle))));
      expect(stored).toHaveLength(expected.length);
      for (const mask of expected) {
        expect(stored.some((s) => Buffer.compare(Buffer.from(s), Buffer.from(bits(mask))) === 0)).toBe(true);
      }
    }
  });

  it("a second import, of the shards or of the same files loose in a folder, duplicates nothing", async () => {
    const before = await prisma().mask.count({ where: { image: { projectId } } });
    const again = await importSa1b({
      db: prisma(),
      blobs: storage(),
      projectId,
      paths: [shard, truncatedShard],
    });
    expectFailures(again);
    expect(again).toMatchObject({
      imagesImported: 0,
      imagesDuplicate: 3,
      masksImported: 0,
      masksDuplicate: 4,
    });
    const loose = await importSa1b({ db: prisma(), blobs: storage(), projectId, paths: [looseFolder] });
    expect(loose).toMatchObject({
      imagesImported: 0,
      imagesDuplicate: 2,
      masksImported: 0,
      masksDuplicate: 3,
    });
    expect(loose.failed.map((f) => f.file).sort()).toEqual([
      "sa_3.json",
      "sa_4.json",
      "sa_5.json",
      "sa_6.jpg",
      "sa_7.json",
    ]);
    expect(await prisma().image.count({ where: { projectId } })).toBe(3);
    expect(await prisma().mask.count({ where: { image: { projectId } } })).toBe(before);
  });

  it("adds to an image the project has the masks it lacks, keeping the ones it has", async () => {
    const other = await newProject();
    const airplane = members.find((m) => m.name === "sa_1.jpg")!.bytes;
    const [airplaneMask] = originals.get("sa_1.jpg")!;
    const probed = await probeImage("sa_1.jpg", airplane);
    const first = await importImageWithMasks(prisma(), storage(), {
      projectId: other,
      filename: "sa_1.jpg",
      bytes: airplane,
      probed,
      masks: [
        {
          rle: encodeMask(airplaneMask!),
          predictedIou: 0.5,
          stabilityScore: 0.5,
          pointCoords: [],
          cropBox: [0, 0, probed.width, probed.height],
          label: "",
          source: "auto",
          stage: "fully_automatic",
        },
      ],
    });
    expect(first.masks).toEqual({ inserted: 1, duplicates: 0 });
    const summary = await importSa1b({ db: prisma(), blobs: storage(), projectId: other, paths: [shard] });
    expect(summary).toMatchObject({
      imagesImported: 1,
      imagesDuplicate: 1,
      masksImported: 2,
      masksDuplicate: 1,
    });
  });
});

describe("importImageWithMasks", () => {
  it("writes the image row and its masks together or not at all", async () => {
    const projectId = await newProject();
    const bytes = await fixtureImage("picture2.jpg");
    const probed = await probeImage("picture2.jpg", bytes);
    const good = encodeMask(rectMask(probed.width, probed.height, 5, 5, 50, 50));
    const mask = (rle: typeof good) => ({
      rle,
      predictedIou: 0.9,
      stabilityScore: 0.9,
      pointCoords: [] as [number, number][],
      cropBox: [0, 0, probed.width, probed.height] as [number, number, number, number],
      label: "",
      source: "auto" as const,
      stage: "fully_automatic" as const,
    });
    // The second mask has the wrong size: the domain refuses it after the image row was inserted.
    const attempt = importImageWithMasks(prisma(), storage(), {
      projectId,
      filename: "picture2.jpg",
      bytes,
      probed,
      masks: [mask(good), mask(encodeMask(rectMask(10, 10, 0, 0, 5, 5)))],
    });
    await expect(attempt).rejects.toThrow(MaskDomainError);
    await expect(attempt).rejects.toThrow(/imported mask 1: mask size \[10, 10\] does not match/);
    expect(await prisma().image.count({ where: { projectId } })).toBe(0);
    expect(await prisma().mask.count({ where: { image: { projectId } } })).toBe(0);
  });
});
