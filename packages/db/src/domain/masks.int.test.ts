import { randomUUID } from "node:crypto";
import { type CocoRle, encodeMask } from "@sas/sa1b";
import { rectMask, seededRandom } from "@sas/sa1b/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectPrisma, prisma } from "../client";
import type { Prisma } from "../generated/prisma/client";
import {
  type AutomaticMaskInput,
  MaskDomainError,
  type ReplaceAutomaticMasksArgs,
  replaceAutomaticMasks,
} from "./masks/index";

const WIDTH = 64;
const HEIGHT = 48;
const unique = Math.random().toString(36).slice(2);
const PASS_KEY = "a".repeat(64);
const OTHER_PASS_KEY = "b".repeat(64);
let projectId: string;
let modelVersionId: string;
let jobId: string;
let authorId: string;

/** Columns x0..x1 - 1 and rows y0..y1 - 1 set (rectMask's half-open convention). */
const rect = (x0: number, y0: number, x1: number, y1: number, width = WIDTH, height = HEIGHT): CocoRle =>
  encodeMask(rectMask(width, height, x0, y0, x1, y1));

function autoMask(rle: CocoRle, overrides: Partial<AutomaticMaskInput> = {}): AutomaticMaskInput {
  return {
    rle,
    // Deliberately wrong: the domain recomputes both from the RLE.
    bbox: [0, 0, 1, 1],
    area: 1,
    predictedIou: 0.95,
    stabilityScore: 0.97,
    pointCoords: [[10.5, 12.25]],
    cropBox: [0, 0, WIDTH, HEIGHT],
    ...overrides,
  };
}

async function newImage(width = WIDTH, height = HEIGHT): Promise<string> {
  const row = await prisma().image.create({
    data: {
      projectId,
      filename: `${randomUUID()}.jpg`,
      mimeType: "image/jpeg",
      width,
      height,
      sizeBytes: 1000n,
      sha256: randomUUID().replaceAll("-", "").padEnd(64, "0"),
      storageKey: `images/test/${randomUUID()}.jpg`,
      status: "ready",
    },
  });
  return row.id;
}

function replace(
  imageId: string,
  masks: AutomaticMaskInput[],
  overrides: Partial<ReplaceAutomaticMasksArgs> = {},
) {
  return prisma().$transaction(
    (tx) =>
      replaceAutomaticMasks(tx, {
        imageId,
        jobId,
        passKey: PASS_KEY,
        stage: "semi_automatic",
        modelVersionId,
        masks,
        ...overrides,
      }),
    { timeout: 60_000 },
  );
}

const masksOf = (imageId: string, where: Prisma.MaskWhereInput = {}) =>
  prisma().mask.findMany({ where: { imageId, ...where }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });

beforeAll(async () => {
  const db = prisma();
  const version = await db.modelVersion.create({
    data: {
      name: `masks-domain-${unique}`,
      encoderPath: "e.onnx",
      encoderSha256: "0".repeat(64),
      decoderPath: "d.onnx",
      decoderSha256: "0".repeat(64),
    },
  });
  modelVersionId = version.id;
  projectId = (await db.project.create({ data: { name: `masks-domain-${unique}`, modelVersionId } })).id;
  jobId = (await db.job.create({ data: { type: "semi_auto", params: {}, projectId, passKey: PASS_KEY } })).id;
  authorId = (
    await db.user.create({
      data: { email: `author-${unique}@masks.test`, name: "author", role: "annotator" },
    })
  ).id;
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("replaceAutomaticMasks", () => {
  it("stores semi-automatic masks as authorless proposals with SA-1B fields and geometry from the RLE", async () => {
    const imageId = await newImage();
    const result = await replace(imageId, [
      autoMask(rect(5, 10, 15, 13)),
      autoMask(rect(0, 0, 1, 1), { pointCoords: [[0, 0]], cropBox: [0, 0, 40, 30] }),
    ]);
    expect(result).toEqual({ inserted: 2, replaced: 0, kept: 0 });
    const rows = await masksOf(imageId);
    expect(rows).toHaveLength(2);
    const wide = rows.find((r) => r.area === 30)!;
    expect(wide).toMatchObject({
      rle: rect(5, 10, 15, 13),
      // Columns 5..14, rows 10..12: SAM's box is [x0, y0, x1 - x0, y1 - y0] with x1, y1 inclusive.
      bbox: [5, 10, 9, 2],
      source: "semi_auto",
      stage: "semi_automatic",
      status: "proposed",
      version: 1,
      authorId: null,
      jobId,
      passKey: PASS_KEY,
      modelVersionId,
      predictedIou: 0.95,
      stabilityScore: 0.97,
      pointCoords: [[10.5, 12.25]],
      prompts: [{ type: "point", x: 10.5, y: 12.25, label: 1 }],
      cropBox: [0, 0, WIDTH, HEIGHT],
      reviewDecision: null,
    });
    const dot = rows.find((r) => r.area === 1)!;
    expect([dot.bbox, dot.cropBox]).toEqual([
      [0, 0, 0, 0],
      [0, 0, 40, 30],
    ]);
  });

  it("stores fully automatic masks as accepted, source auto", async () => {
    const imageId = await newImage();
    await replace(imageId, [autoMask(rect(1, 1, 4, 4))], { stage: "fully_automatic" });
    const [row] = await masksOf(imageId);
    expect(row).toMatchObject({ source: "auto", stage: "fully_automatic", status: "accepted", area: 9 });
  });

  it("on a rerun replaces only its own untouched masks: never manual, edited, accepted or reviewed ones, nor another key's", async () => {
    const db = prisma();
    const imageId = await newImage();
    const otherImageId = await newImage();
    await replace(imageId, [
      autoMask(rect(0, 0, 2, 2)),
      autoMask(rect(0, 0, 3, 3)),
      autoMask(rect(0, 0, 4, 4)),
      autoMask(rect(0, 0, 5, 5)),
    ]);
    await replace(otherImageId, [autoMask(rect(0, 0, 2, 2))]);
    await replace(imageId, [autoMask(rect(0, 0, 6, 6))], { passKey: OTHER_PASS_KEY });
    const manual = await db.mask.create({
      data: {
        imageId,
        rle: rect(10, 10, 12, 12) as unknown as Prisma.InputJsonObject,
        bbox: [10, 10, 1, 1],
        area: 4,
        cropBox: [0, 0, WIDTH, HEIGHT],
        source: "manual",
        stage: "assisted_manual",
        authorId,
      },
    });
    const [untouched, edited, accepted, reviewed] = await masksOf(imageId, { passKey: PASS_KEY });
    // A person's edit, accept and review each bump the version; a review also records its decision.
    await db.mask.update({ where: { id: edited!.id }, data: { version: 2, label: "dog" } });
    await db.mask.update({ where: { id: accepted!.id }, data: { version: 2, status: "accepted" } });
    await db.mask.update({ where: { id: reviewed!.id }, data: { reviewDecision: "approved" } });

    const result = await replace(imageId, [autoMask(rect(20, 20, 30, 30)), autoMask(rect(30, 30, 40, 40))]);
    expect(result).toEqual({ inserted: 2, replaced: 1, kept: 0 });
    const after = await masksOf(imageId);
    const ids = after.map((m) => m.id);
    expect(ids).not.toContain(untouched!.id);
    expect(ids).toEqual(expect.arrayContaining([edited!.id, accepted!.id, reviewed!.id, manual.id]));
    expect(after.filter((m) => m.passKey === OTHER_PASS_KEY)).toHaveLength(1);
    expect(after.filter((m) => m.passKey === PASS_KEY && m.version === 1 && !m.reviewDecision)).toHaveLength(
      2,
    );
    expect(after).toHaveLength(4 + 2 + 1);
    expect(await masksOf(otherImageId)).toHaveLength(1);

    // The same result again: the same count, no duplicates.
    expect(await replace(imageId, [autoMask(rect(20, 20, 30, 30)), autoMask(rect(30, 30, 40, 40))])).toEqual({
      inserted: 2,
      replaced: 2,
      kept: 0,
    });
    expect(await masksOf(imageId)).toHaveLength(7);
  });

  it("on a rerun does not store again a proposal a person accepted, fixed or deleted", async () => {
    const db = prisma();
    const imageId = await newImage();
    const same = [
      autoMask(rect(0, 0, 10, 10)),
      autoMask(rect(20, 20, 30, 30)),
      autoMask(rect(40, 0, 50, 10)),
    ];
    await replace(imageId, same);
    const at = <Row extends { bbox: number[] }>(rows: Row[], x: number, y: number) =>
      rows.find((m) => m.bbox[0] === x && m.bbox[1] === y)!;
    const before = await masksOf(imageId);
    const [accepted, deleted, untouched] = [at(before, 0, 0), at(before, 20, 20), at(before, 40, 0)] as const;
    await db.mask.update({ where: { id: accepted.id }, data: { version: 2, status: "accepted" } });
    await db.mask.update({ where: { id: deleted.id }, data: { version: 2, status: "deleted" } });

    // The deterministic rerun finds the same three, plus one nearly the same as the accepted one (IoU 0.9).
    const rerun = [...same, autoMask(rect(0, 0, 10, 9))];
    expect(await replace(imageId, rerun)).toEqual({ inserted: 1, replaced: 1, kept: 3 });
    const after = await masksOf(imageId);
    expect(after.map((m) => m.status).sort()).toEqual(["accepted", "deleted", "proposed"]);
    expect(after.map((m) => m.id)).not.toContain(untouched.id);
  });

  it("serialises two runs of the same image and key, so they never leave both results", async () => {
    const imageId = await newImage();
    const masks = [autoMask(rect(0, 0, 8, 8)), autoMask(rect(8, 8, 16, 16)), autoMask(rect(2, 2, 3, 3))];
    await Promise.all([replace(imageId, masks), replace(imageId, masks), replace(imageId, masks)]);
    expect(await masksOf(imageId)).toHaveLength(3);
  });

  it("refuses an RLE of the wrong size, a malformed or an empty one, and writes nothing", async () => {
    const imageId = await newImage();
    await replace(imageId, [autoMask(rect(0, 0, 2, 2))]);
    const before = await masksOf(imageId);
    const refused = async (masks: AutomaticMaskInput[], message: RegExp) => {
      const error = await replace(imageId, masks).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MaskDomainError);
      expect((error as MaskDomainError).code).toBe("BAD_REQUEST");
      expect((error as MaskDomainError).message).toMatch(message);
      expect(await masksOf(imageId)).toEqual(before);
    };
    const good = autoMask(rect(4, 4, 8, 8));
    await refused(
      [good, autoMask(rect(0, 0, 2, 2, HEIGHT, WIDTH))],
      /automatic mask 1: mask size \[64, 48\] does not match the image's \[height, width\] \[48, 64\]/,
    );
    await refused([good, autoMask({ size: [HEIGHT, WIDTH], counts: "not~rle" })], /automatic mask 1:/);
    await refused([autoMask(encodeMask(rectMask(WIDTH, HEIGHT, 0, 0, 0, 0)))], /mask 0: the mask is empty/);
    await refused([autoMask(rect(0, 0, 2, 2), { stabilityScore: 1.5 })], /masks\.0\.stabilityScore/);
    const missing = await prisma()
      .$transaction((tx) =>
        replaceAutomaticMasks(tx, {
          imageId: randomUUID(),
          jobId,
          passKey: PASS_KEY,
          stage: "fully_automatic",
          modelVersionId: null,
          masks: [],
        }),
      )
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "NOT_FOUND", message: "image not found" });
  });

  it("inserts 5000 masks in one batch", async () => {
    const width = 640;
    const height = 480;
    const imageId = await newImage(width, height);
    const random = seededRandom(11);
    const masks = Array.from({ length: 5000 }, () => {
      const x0 = Math.floor(random() * (width - 40));
      const y0 = Math.floor(random() * (height - 40));
      const size = 1 + Math.floor(random() * 39);
      return autoMask(rect(x0, y0, x0 + size, y0 + size, width, height), {
        pointCoords: [[x0, y0]],
        cropBox: [0, 0, width, height],
      });
    });
    const started = performance.now();
    const first = await replace(imageId, masks);
    const firstMs = performance.now() - started;
    const again = performance.now();
    const second = await replace(imageId, masks);
    const secondMs = performance.now() - again;
    expect(first).toEqual({ inserted: 5000, replaced: 0, kept: 0 });
    expect(second).toEqual({ inserted: 5000, replaced: 5000, kept: 0 });
    expect(await prisma().mask.count({ where: { imageId } })).toBe(5000);
    // Benchmark output, not an assertion: tests never assert timings.
    console.log(
      `replaceAutomaticMasks: 5000 masks inserted in ${firstMs.toFixed(0)} ms; rerun (5000 replaced + 5000 inserted) in ${secondMs.toFixed(0)} ms`,
    );
  });
});
