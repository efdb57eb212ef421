import { randomUUID } from "node:crypto";
import { type CocoRle, createMask, encodeMask } from "@sas/sa1b";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectPrisma, prisma } from "../client";
import type { AutomaticMaskInput } from "./masks";
import {
  cancelPass,
  claimPassImage,
  completePassImage,
  createPass,
  failPassImage,
  filterShares,
  passDetail,
  passKeyOf,
  passSummary,
  resolvePassParams,
} from "./passes";

const WIDTH = 40;
const HEIGHT = 30;
const unique = randomUUID().slice(0, 8);

let actor: { id: string };
let projectId: string;
let modelVersionId: string;
let images: string[];

function rect(x0: number, y0: number, x1: number, y1: number): CocoRle {
  const mask = createMask(WIDTH, HEIGHT);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) mask.data[y * WIDTH + x] = 1;
  return encodeMask(mask);
}

function autoMask(x0: number, y0: number, x1: number, y1: number): AutomaticMaskInput {
  return {
    rle: rect(x0, y0, x1, y1),
    bbox: [x0, y0, x1 - x0, y1 - y0],
    area: (x1 - x0 + 1) * (y1 - y0 + 1),
    predictedIou: 0.93,
    stabilityScore: 0.97,
    pointCoords: [[(x0 + x1) / 2, (y0 + y1) / 2]],
    cropBox: [0, 0, WIDTH, HEIGHT],
  };
}

const counts = {
  candidates: 300,
  predIou: 120,
  stability: 60,
  cropEdge: 60,
  boxNms: 10,
  cropNms: 10,
  smallRegions: 10,
  final: 10,
};

beforeAll(async () => {
  const db = prisma();
  const user = await db.user.create({
    data: { email: `passes-${unique}@db.test`, name: "p", role: "admin" },
  });
  actor = { id: user.id };
  const model = await db.modelVersion.create({
    data: {
      name: `passes-${unique}`,
      encoderPath: "/none/e.onnx",
      encoderSha256: "0".repeat(64),
      decoderPath: "/none/d.onnx",
      decoderSha256: "0".repeat(64),
    },
  });
  modelVersionId = model.id;
  const project = await db.project.create({ data: { name: `passes-${unique}`, modelVersionId } });
  projectId = project.id;
  images = [];
  for (let i = 0; i < 3; i++) {
    const image = await db.image.create({
      data: {
        projectId,
        filename: `p-${i}.jpg`,
        mimeType: "image/jpeg",
        width: WIDTH,
        height: HEIGHT,
        sizeBytes: 1n,
        sha256: `${unique}${i}`.padEnd(64, "0"),
        storageKey: `images/none/${i}.jpg`,
        status: "ready",
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      },
    });
    images.push(image.id);
  }
});

afterAll(async () => {
  await disconnectPrisma();
});

const pass = (id: string) => prisma().job.findUniqueOrThrow({ where: { id } });
const item = (jobId: string, imageId: string) =>
  prisma().passImage.findUniqueOrThrow({ where: { jobId_imageId: { jobId, imageId } } });

describe("pass parameters and key", () => {
  it("merges overrides over the stage's defaults and refuses what SAM would not run", () => {
    expect(resolvePassParams("semi_automatic", { pointsPerSide: 8 })).toMatchObject({
      pointsPerSide: 8,
      predIouThresh: 0.94,
      stabilityScoreThresh: 0.97,
    });
    expect(resolvePassParams("fully_automatic")).toMatchObject({ predIouThresh: 0.88, cropNLayers: 1 });
    expect(() => resolvePassParams("fully_automatic", { typo: 1 })).toThrow(/unknown pass parameter typo/);
    expect(() => resolvePassParams("fully_automatic", { boxNmsThresh: 2 })).toThrow(/bad pass parameters/);
  });

  it("is the same for the same stage, model and parameters whatever their order, and differs otherwise", () => {
    const params = resolvePassParams("fully_automatic");
    const reordered = Object.fromEntries(Object.entries(params).reverse()) as typeof params;
    const key = passKeyOf({ stage: "fully_automatic", modelVersionId, params });
    expect(passKeyOf({ stage: "fully_automatic", modelVersionId, params: reordered })).toBe(key);
    expect(passKeyOf({ stage: "semi_automatic", modelVersionId, params })).not.toBe(key);
    expect(passKeyOf({ stage: "fully_automatic", modelVersionId: randomUUID(), params })).not.toBe(key);
    expect(
      passKeyOf({ stage: "fully_automatic", modelVersionId, params: { ...params, pointsPerSide: 31 } }),
    ).not.toBe(key);
  });

  it("orders filter stages as the pipeline runs them and shares them out of the candidates", () => {
    const shares = filterShares([
      { final: 4, candidates: 100, predIou: 40 },
      { candidates: 100, final: 6, predIou: 10 },
    ]);
    expect(shares).toEqual([
      { name: "candidates", kept: 200, share: 1 },
      { name: "predIou", kept: 50, share: 0.25 },
      { name: "final", kept: 10, share: 0.05 },
    ]);
  });
});

describe("a pass's work items", () => {
  it("counts each image once, fails and retries, estimates time left and finishes", async () => {
    const { id, imageIds, passKey } = await createPass(prisma(), actor, {
      projectId,
      stage: "fully_automatic",
      params: { pointsPerSide: 4, cropNLayers: 0 },
    });
    expect(imageIds).toEqual(images);

    const claimed = await claimPassImage(prisma(), id, images[0]!);
    expect(claimed).toMatchObject({ stage: "fully_automatic", passKey, modelVersionId, attempts: 1 });
    expect(claimed?.params.pointsPerSide).toBe(4);
    expect(await pass(id)).toMatchObject({ status: "running" });
    expect((await pass(id)).startedAt).toBeInstanceOf(Date);

    const result = { jobId: id, imageId: images[0]!, seconds: 2, filterCounts: counts };
    const first = await completePassImage(prisma(), {
      ...result,
      masks: [autoMask(1, 1, 10, 10), autoMask(20, 5, 30, 20)],
    });
    expect(first).toEqual({ status: "completed", inserted: 2, replaced: 0, passFinished: false });
    // The same image completing again (a stalled job that finished after all) writes and counts nothing.
    const again = await completePassImage(prisma(), { ...result, masks: [autoMask(1, 1, 10, 10)] });
    expect(again).toEqual({ status: "skipped", reason: "already finished" });
    expect(await pass(id)).toMatchObject({ doneItems: 1, resultCount: 2, progress: 1 / 3 });
    const masks = await prisma().mask.findMany({ where: { jobId: id }, orderBy: { area: "asc" } });
    expect(masks).toHaveLength(2);
    expect(masks[0]).toMatchObject({
      imageId: images[0],
      source: "auto",
      stage: "fully_automatic",
      status: "accepted",
      modelVersionId,
      passKey,
      predictedIou: 0.93,
      stabilityScore: 0.97,
      pointCoords: [[5.5, 5.5]],
      cropBox: [0, 0, WIDTH, HEIGHT],
      bbox: [1, 1, 9, 9],
      area: 100,
    });
    expect(await item(id, images[0]!)).toMatchObject({ status: "completed", masks: 2, seconds: 2 });
    expect(await claimPassImage(prisma(), id, images[0]!)).toBeNull();

    // Image 1 fails for good; reported twice, it counts once.
    await claimPassImage(prisma(), id, images[1]!);
    await failPassImage(prisma(), { jobId: id, imageId: images[1]!, error: "boom" });
    await failPassImage(prisma(), { jobId: id, imageId: images[1]!, error: "boom" });
    expect(await pass(id)).toMatchObject({ failedItems: 1, progress: 2 / 3, status: "running" });
    expect(await item(id, images[1]!)).toMatchObject({ status: "failed", error: "boom" });

    // One image left at 2 s per image, nobody on it: about 2 s; held by one worker: still 2 s.
    expect((await passSummary(prisma(), id)).etaSeconds).toBe(2);
    await claimPassImage(prisma(), id, images[2]!);
    const detail = await passDetail(prisma(), id);
    expect(detail.etaSeconds).toBe(2);
    expect(detail.stats.masksPerImage).toBe(2);
    expect(detail.stats.secondsPerImage).toBe(2);
    expect(detail.stats.filters.map((f) => [f.name, f.kept, f.share])).toEqual([
      ["candidates", 300, 1],
      ["predIou", 120, 0.4],
      ["stability", 60, 0.2],
      ["cropEdge", 60, 0.2],
      ["boxNms", 10, 1 / 30],
      ["cropNms", 10, 1 / 30],
      ["smallRegions", 10, 1 / 30],
      ["final", 10, 1 / 30],
    ]);
    expect(detail.images.map((i) => [i.filename, i.status, i.masks, i.error])).toEqual([
      ["p-0.jpg", "completed", 2, null],
      ["p-1.jpg", "failed", 0, "boom"],
      ["p-2.jpg", "running", 0, null],
    ]);

    const last = await completePassImage(prisma(), {
      jobId: id,
      imageId: images[2]!,
      seconds: 4,
      filterCounts: counts,
      masks: [],
    });
    expect(last).toMatchObject({ status: "completed", inserted: 0, passFinished: true });
    const finished = await passSummary(prisma(), id);
    expect(finished).toMatchObject({
      status: "completed",
      doneItems: 2,
      failedItems: 1,
      progress: 1,
      etaSeconds: null,
    });
    expect(finished.finishedAt).toBeInstanceOf(Date);

    // An admin retries the failed image's job: the pass reopens, and finishes again with it done.
    const retried = await claimPassImage(prisma(), id, images[1]!);
    expect(retried?.attempts).toBe(2);
    expect(await pass(id)).toMatchObject({ status: "running", failedItems: 0, finishedAt: null });
    await completePassImage(prisma(), {
      jobId: id,
      imageId: images[1]!,
      seconds: 3,
      filterCounts: counts,
      masks: [autoMask(0, 0, 3, 3)],
    });
    expect(await pass(id)).toMatchObject({
      status: "completed",
      doneItems: 3,
      failedItems: 0,
      resultCount: 3,
      progress: 1,
    });
  });

  it("a rerun with the same key replaces its untouched masks; edited, accepted and manual masks stay", async () => {
    const start = () =>
      createPass(prisma(), actor, {
        projectId,
        imageIds: [images[2]!],
        stage: "semi_automatic",
        params: { pointsPerSide: 4, cropNLayers: 0 },
      });
    const run = async (jobId: string) => {
      await claimPassImage(prisma(), jobId, images[2]!);
      return completePassImage(prisma(), {
        jobId,
        imageId: images[2]!,
        seconds: 1,
        filterCounts: counts,
        masks: [autoMask(1, 1, 5, 5), autoMask(10, 10, 20, 20), autoMask(25, 2, 35, 12)],
      });
    };
    const first = await start();
    await run(first.id);
    const made = await prisma().mask.findMany({ where: { jobId: first.id }, orderBy: { area: "asc" } });
    expect(made.map((m) => [m.source, m.status])).toEqual([
      ["semi_auto", "proposed"],
      ["semi_auto", "proposed"],
      ["semi_auto", "proposed"],
    ]);
    // An annotator accepted one (a write by a person bumps the version); a manual mask is on the image.
    await prisma().mask.update({
      where: { id: made[0]!.id },
      data: { status: "accepted", version: { increment: 1 } },
    });
    await prisma().mask.create({
      data: {
        imageId: images[2]!,
        rle: rect(0, 20, 5, 25) as object,
        bbox: [0, 20, 5, 5],
        area: 36,
        cropBox: [0, 0, WIDTH, HEIGHT],
        source: "manual",
        stage: "assisted_manual",
        authorId: actor.id,
      },
    });
    const second = await start();
    expect(second.passKey).toBe(first.passKey);
    // The two untouched proposals are replaced; the accepted one is not proposed a second time.
    expect(await run(second.id)).toMatchObject({ status: "completed", inserted: 2, replaced: 2 });
    const onImage = await prisma().mask.findMany({
      where: { imageId: images[2]!, stage: { not: "fully_automatic" } },
    });
    expect(onImage.filter((m) => m.jobId === second.id)).toHaveLength(2);
    expect(await pass(second.id)).toMatchObject({ status: "completed", resultCount: 2 });
    expect(onImage.filter((m) => m.jobId === first.id).map((m) => m.id)).toEqual([made[0]!.id]);
    expect(onImage.filter((m) => m.source === "manual")).toHaveLength(1);
  });

  it("cancelling stops counting: a late result or failure of a cancelled pass writes nothing", async () => {
    const { id } = await createPass(prisma(), actor, {
      projectId,
      stage: "fully_automatic",
      params: { pointsPerSide: 5, cropNLayers: 0 },
    });
    await claimPassImage(prisma(), id, images[0]!);
    await completePassImage(prisma(), {
      jobId: id,
      imageId: images[0]!,
      seconds: 1,
      filterCounts: counts,
      masks: [autoMask(2, 2, 6, 6)],
    });
    await claimPassImage(prisma(), id, images[1]!);
    const { cancelledImageIds } = await cancelPass(prisma(), actor, id);
    expect(cancelledImageIds.sort()).toEqual([images[1]!, images[2]!].sort());
    expect(
      await completePassImage(prisma(), {
        jobId: id,
        imageId: images[1]!,
        seconds: 1,
        filterCounts: counts,
        masks: [autoMask(2, 2, 6, 6)],
      }),
    ).toEqual({ status: "skipped", reason: "cancelled" });
    await failPassImage(prisma(), { jobId: id, imageId: images[2]!, error: "late" });
    expect(await claimPassImage(prisma(), id, images[2]!)).toBeNull();
    expect(await pass(id)).toMatchObject({
      status: "cancelled",
      doneItems: 1,
      failedItems: 0,
      resultCount: 1,
    });
    const states = await prisma().passImage.findMany({ where: { jobId: id }, orderBy: { imageId: "asc" } });
    expect(Object.fromEntries(states.map((s) => [s.imageId, s.status]))).toEqual({
      [images[0]!]: "completed",
      [images[1]!]: "cancelled",
      [images[2]!]: "cancelled",
    });
    expect(await prisma().mask.count({ where: { jobId: id } })).toBe(1);
  });
});
