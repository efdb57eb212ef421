/**
 * Every dashboard statistic against values worked out by hand from a small seeded project. The seed is a
 * table (`SEED`); the expectations are written out as literals where they are easy to see (medians, p90,
 * weekly buckets, shares, bins), so a wrong SQL aggregate, bucket or filter fails here.
 */
import { randomUUID } from "node:crypto";
import { type CocoRle, encodeMask } from "@sas/sa1b";
import { rectMask } from "@sas/sa1b/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectPrisma, prisma } from "../../client";
import type { MaskSource, MaskStatus, ReviewDecision, Stage } from "../../generated/prisma/client";
import { claimExport, completeExport, createExport } from "../exports";
import { reviewMask } from "../masks/review";
import {
  annotatorStats,
  datasetStats,
  interactionsPerMask,
  reviewStats,
  type StatsFiltersInput,
  type StatsTableRow,
  secondsPerMask,
  secondsPerMaskBy,
  secondsPerMaskByWeek,
  secondsPerMaskWithWeeks,
  statsCsvHeader,
  statsCsvLines,
  statsScope,
  statsTableRows,
  throughputStats,
  timingStats,
} from "./index";

const W1 = "2026-01-05"; // a Monday
const W2 = "2026-01-12"; // the next Monday
const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, "0")}:00:00Z`);

type ImageKey = "a" | "b" | "c";
/** a: 1000x500, b: 200x200, c: 100x100. */
const IMAGE_SIZES: Record<ImageKey, [number, number]> = { a: [1000, 500], b: [200, 200], c: [100, 100] };

interface SeedMask {
  key: string;
  image: ImageKey;
  author: "alice" | "bob" | null;
  source: MaskSource;
  stage: Stage;
  version: "v1" | "v2" | null;
  createdAt: Date;
  status?: MaskStatus;
  /** [activeMs, clicks, boxes, brushStrokes, undos] for timed (manual) masks. */
  timing?: [number, number, number, number, number];
  review?: { decision: ReviewDecision; iou?: number };
  /** [x, y, w, h] in pixels; area is w * h unless given. */
  bbox: [number, number, number, number];
  area?: number;
}

// Relative sizes (sqrt(area / image area)) and centres are chosen inside bins, never on an edge.
const SEED: SeedMask[] = [
  // Week 1, assisted-manual, v1.
  {
    key: "m1",
    image: "a",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at(W1, 9),
    timing: [10_000, 2, 0, 0, 0],
    review: { decision: "approved" },
    bbox: [0, 0, 100, 60],
  },
  {
    key: "m2",
    image: "a",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at(W1, 10),
    timing: [20_000, 4, 1, 0, 1],
    review: { decision: "corrected", iou: 0.95 },
    bbox: [800, 400, 150, 80],
  },
  {
    key: "m3",
    image: "a",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at(W1, 11),
    timing: [30_000, 6, 0, 2, 0],
    review: { decision: "corrected", iou: 0.55 },
    bbox: [450, 200, 100, 100],
  },
  {
    key: "m4",
    image: "b",
    author: "bob",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at(W1, 12),
    timing: [40_000, 8, 0, 0, 3],
    review: { decision: "rejected" },
    status: "rejected",
    bbox: [10, 10, 20, 20],
  },
  // Week 2: assisted-manual with v1 and v2, then semi-automatic with v2.
  {
    key: "m5",
    image: "b",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at("2026-01-13", 9),
    timing: [5_000, 1, 0, 0, 0],
    review: { decision: "approved" },
    bbox: [100, 100, 92, 90],
  },
  {
    key: "m6",
    image: "b",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v2",
    createdAt: at("2026-01-13", 10),
    timing: [15_000, 3, 0, 0, 0],
    bbox: [0, 150, 44, 40],
  },
  {
    key: "m7",
    image: "c",
    author: "bob",
    source: "manual",
    stage: "assisted_manual",
    version: "v2",
    createdAt: at("2026-01-14", 9),
    timing: [25_000, 5, 1, 1, 0],
    review: { decision: "corrected", iou: 0.92 },
    bbox: [60, 60, 32, 30],
  },
  {
    key: "m8",
    image: "c",
    author: "bob",
    source: "manual",
    stage: "assisted_manual",
    version: "v2",
    createdAt: at("2026-01-14", 10),
    timing: [35_000, 7, 0, 0, 0],
    bbox: [5, 5, 12, 12],
  },
  {
    key: "m9",
    image: "c",
    author: "bob",
    source: "manual",
    stage: "assisted_manual",
    version: "v2",
    createdAt: at("2026-01-14", 11),
    timing: [45_000, 9, 2, 0, 0],
    bbox: [52, 2, 21, 20],
  },
  {
    key: "s1",
    image: "a",
    author: "bob",
    source: "semi_auto",
    stage: "semi_automatic",
    version: "v2",
    createdAt: at("2026-01-15", 9),
    timing: [8_000, 1, 0, 0, 0],
    review: { decision: "approved" },
    bbox: [300, 110, 210, 100],
  },
  {
    key: "s2",
    image: "c",
    author: "bob",
    source: "semi_auto",
    stage: "semi_automatic",
    version: "v2",
    createdAt: at("2026-01-15", 10),
    timing: [12_000, 2, 0, 0, 0],
    bbox: [20, 70, 11, 10],
  },
  // Automatic masks: no timing, no author; one proposed, one corrected at 0.98.
  {
    key: "f1",
    image: "a",
    author: null,
    source: "auto",
    stage: "fully_automatic",
    version: "v2",
    createdAt: at("2026-01-16", 9),
    review: { decision: "corrected", iou: 0.98 },
    bbox: [900, 0, 100, 60],
  },
  {
    key: "f2",
    image: "a",
    author: null,
    source: "auto",
    stage: "fully_automatic",
    version: "v2",
    createdAt: at("2026-01-16", 9),
    status: "proposed",
    bbox: [0, 450, 50, 50],
  },
  // Deleted: counts nowhere, even with a very long time.
  {
    key: "d1",
    image: "b",
    author: "alice",
    source: "manual",
    stage: "assisted_manual",
    version: "v1",
    createdAt: at(W1, 13),
    timing: [999_000, 99, 0, 0, 0],
    status: "deleted",
    bbox: [0, 0, 200, 200],
  },
];

let projectId: string;
let otherProjectId: string;
const users: Record<"alice" | "bob", string> = { alice: "", bob: "" };
const versions: Record<"v1" | "v2", string> = { v1: "", v2: "" };
const maskIds: Record<string, string> = {};
const tag = randomUUID().slice(0, 8);

const rle = (image: ImageKey, bbox: SeedMask["bbox"]): CocoRle => {
  const [w, h] = IMAGE_SIZES[image];
  const [x, y, bw, bh] = bbox;
  return encodeMask(rectMask(w, h, x, y, x + bw, y + bh));
};

async function seed() {
  const db = prisma();
  for (const name of ["alice", "bob"] as const) {
    users[name] = (
      await db.user.create({ data: { email: `${name}-${tag}@stats.test`, name: `${name}-${tag}` } })
    ).id;
  }
  for (const name of ["v1", "v2"] as const) {
    versions[name] = (
      await db.modelVersion.create({
        data: {
          name: `stats-${name}-${tag}`,
          encoderPath: "x",
          encoderSha256: "0".repeat(64),
          decoderPath: "x",
          decoderSha256: "0".repeat(64),
        },
      })
    ).id;
  }
  projectId = (await db.project.create({ data: { name: `stats-${tag}` } })).id;
  otherProjectId = (await db.project.create({ data: { name: `stats-other-${tag}` } })).id;
  const images: Record<ImageKey, string> = { a: "", b: "", c: "" };
  for (const key of ["a", "b", "c"] as const) {
    const [width, height] = IMAGE_SIZES[key];
    images[key] = (
      await db.image.create({
        data: {
          projectId,
          filename: `${key}.jpg`,
          mimeType: "image/jpeg",
          width,
          height,
          sizeBytes: 1n,
          sha256: `${tag}${key}`.padStart(64, "0"),
          storageKey: `images/stats/${key}`,
          status: "ready",
        },
      })
    ).id;
  }
  for (const m of SEED) {
    const [x, y, w, h] = m.bbox;
    const row = await db.mask.create({
      data: {
        imageId: images[m.image],
        rle: { ...rle(m.image, m.bbox) },
        bbox: [x, y, w, h],
        area: m.area ?? w * h,
        cropBox: [],
        source: m.source,
        stage: m.stage,
        modelVersionId: m.version ? versions[m.version] : null,
        authorId: m.author ? users[m.author] : null,
        status: m.status ?? "accepted",
        reviewDecision: m.review?.decision ?? null,
        createdAt: m.createdAt,
      },
    });
    maskIds[m.key] = row.id;
    if (m.timing && m.author) {
      const [activeMs, clicks, boxes, brushStrokes, undos] = m.timing;
      await db.maskTiming.create({
        data: {
          maskId: row.id,
          annotatorId: users[m.author],
          startedAt: new Date(m.createdAt.getTime() - activeMs),
          finishedAt: m.createdAt,
          activeMs,
          clicks,
          boxes,
          brushStrokes,
          undos,
        },
      });
    }
    if (m.review) {
      await db.maskReview.create({
        data: { maskId: row.id, decision: m.review.decision, iou: m.review.iou ?? null },
      });
    }
  }
  // Another project's mask: never counted in this one.
  const other = await db.image.create({
    data: {
      projectId: otherProjectId,
      filename: "o.jpg",
      mimeType: "image/jpeg",
      width: 100,
      height: 100,
      sizeBytes: 1n,
      sha256: `${tag}o`.padStart(64, "0"),
      storageKey: "images/stats/o",
      status: "ready",
    },
  });
  const foreign = await db.mask.create({
    data: {
      imageId: other.id,
      rle: { ...rle("c", [0, 0, 10, 10]) },
      bbox: [0, 0, 10, 10],
      area: 100,
      cropBox: [],
      source: "manual",
      stage: "assisted_manual",
      authorId: users.alice,
      createdAt: at(W1, 9),
    },
  });
  await db.maskTiming.create({
    data: {
      maskId: foreign.id,
      annotatorId: users.alice,
      startedAt: at(W1, 8),
      finishedAt: at(W1, 9),
      activeMs: 777_000,
    },
  });
}

const scope = (extra: Partial<StatsFiltersInput> = {}) => statsScope(prisma(), { projectId, ...extra });

beforeAll(seed);
afterAll(disconnectPrisma);

describe("seconds per mask", () => {
  it("gives median and p90 over every timed mask, by week, annotator, stage and model version", async () => {
    const t = await timingStats(prisma(), await scope());
    // Timed, not deleted: 10 20 30 40 5 15 25 35 45 8 12 (s). Sorted: 5 8 10 12 15 20 25 30 35 40 45.
    // Median: the 6th of 11 = 20. p90: position 0.9 * 10 = 9 -> the 10th value, 40.
    expect(t.overall).toEqual({ masks: 11, median: 20, p90: 40 });
    // Week 1: 10 20 30 40 -> median 25, p90 at 2.7: 30 + 0.7 * 10 = 37.
    // Week 2: 5 15 25 35 45 8 12 -> sorted 5 8 12 15 25 35 45: median 15, p90 at 5.4: 35 + 0.4 * 10 = 39.
    expect(t.byWeek.map((w) => [w.week.toISOString().slice(0, 10), w.masks, w.median, w.p90])).toEqual([
      [W1, 4, 25, 37],
      [W2, 7, 15, closeTo(39)],
    ]);
    // Alice: 10 20 30 5 15 -> sorted 5 10 15 20 30: median 15, p90 at 3.6: 20 + 0.6 * 10 = 26.
    // Bob: 40 25 35 45 8 12 -> sorted 8 12 25 35 40 45: median 30, p90 at 4.5: 40 + 0.5 * 5 = 42.5.
    expect(t.byAnnotator.map((g) => [g.key, g.masks, g.median, g.p90])).toEqual([
      [users.bob, 6, 30, 42.5],
      [users.alice, 5, 15, closeTo(26)],
    ]);
    // Stages: assisted 9 masks (5 10 15 20 25 30 35 40 45): median 25, p90 at 7.2: 40 + 0.2 * 5 = 41.
    // Semi-automatic: 8 12: median 10, p90 at 0.9: 8 + 0.9 * 4 = 11.6.
    expect(t.byStage.map((g) => [g.key, g.masks, g.median, g.p90])).toEqual([
      ["assisted_manual", 9, 25, closeTo(41)],
      ["semi_automatic", 2, 10, closeTo(11.6)],
    ]);
    // v1: 10 20 30 40 5 -> sorted 5 10 20 30 40: median 20, p90 at 3.6: 30 + 0.6 * 10 = 36.
    // v2: 15 25 35 45 8 12 -> sorted 8 12 15 25 35 45: median 20, p90 at 4.5: 35 + 0.5 * 10 = 40.
    expect(t.byModelVersion.map((g) => [g.key, g.masks, g.median, g.p90])).toEqual([
      [versions.v2, 6, 20, closeTo(40)],
      [versions.v1, 5, 20, closeTo(36)],
    ]);
  });

  it("counts clicks, boxes, brush strokes and undos per mask", async () => {
    const { interactions } = await timingStats(prisma(), await scope());
    // clicks 2 4 6 8 1 3 5 7 9 1 2 = 48 over 11: median of sorted 1 1 2 2 3 4 5 6 7 8 9 = 4.
    expect(interactions.masks).toBe(11);
    expect(interactions.clicks).toEqual({ mean: closeTo(48 / 11), median: 4, total: 48 });
    // boxes 1 (m2) + 1 (m7) + 2 (m9) = 4; strokes 2 (m3) + 1 (m7) = 3; undos 1 + 3 = 4.
    expect(interactions.boxes).toEqual({ mean: closeTo(4 / 11), median: 0, total: 4 });
    expect(interactions.brushStrokes).toEqual({ mean: closeTo(3 / 11), median: 0, total: 3 });
    expect(interactions.undos.total).toBe(4);
  });

  it("follows every filter: date range, stage, source, model version, annotator", async () => {
    const secs = async (extra: Partial<StatsFiltersInput>) =>
      (await timingStats(prisma(), await scope(extra))).overall;
    // Week 2 only (from inclusive, to exclusive).
    expect(await secs({ from: new Date(`${W2}T00:00:00Z`), to: new Date("2026-01-19T00:00:00Z") })).toEqual({
      masks: 7,
      median: 15,
      p90: closeTo(39),
    });
    expect(await secs({ to: new Date(`${W2}T00:00:00Z`) })).toMatchObject({ masks: 4, median: 25 });
    expect(await secs({ stage: "semi_automatic" })).toMatchObject({ masks: 2, median: 10 });
    expect(await secs({ source: "manual" })).toMatchObject({ masks: 9, median: 25 });
    expect(await secs({ modelVersionId: versions.v1 })).toMatchObject({ masks: 5, median: 20 });
    expect(await secs({ annotatorId: users.alice })).toMatchObject({ masks: 5, median: 15 });
    // Combined: Bob's assisted-manual masks made with v2: 25 35 45.
    expect(
      await secs({ annotatorId: users.bob, stage: "assisted_manual", modelVersionId: versions.v2 }),
    ).toEqual({ masks: 3, median: 35, p90: closeTo(43) });
    // Nothing matches: no masks, no percentiles.
    expect(await secs({ from: new Date("2030-01-01T00:00:00Z") })).toEqual({
      masks: 0,
      median: null,
      p90: null,
    });
  });

  it("refuses bad filters with a clear message", async () => {
    await expect(
      statsScope(prisma(), { projectId, from: new Date("2026-02-01"), to: new Date("2026-01-01") }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("from must be before to"),
    });
    await expect(statsScope(prisma(), { projectId: "nope" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(scope({ exportId: randomUUID() })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("throughput", () => {
  it("gives masks per hour of active time overall, by annotator and by week", async () => {
    const t = await throughputStats(prisma(), await scope());
    // 11 masks in 245 s of active time: 11 / (245 / 3600) = 161.63 per hour.
    expect(t.overall.masks).toBe(11);
    expect(t.overall.activeHours).toBeCloseTo(245 / 3600, 9);
    expect(t.overall.masksPerHour).toBeCloseTo((11 * 3600) / 245, 6);
    // Alice: 5 masks in 80 s = 225/h. Bob: 6 masks in 165 s = 130.9/h.
    expect(t.byAnnotator.map((r) => [r.key, r.masks, r.masksPerHour])).toEqual([
      [users.bob, 6, closeTo((6 * 3600) / 165)],
      [users.alice, 5, closeTo(225)],
    ]);
    // Week 1: 4 masks in 100 s = 144/h; week 2: 7 masks in 145 s.
    expect(t.byWeek.map((r) => [r.label, r.masks, r.masksPerHour])).toEqual([
      [W1, 4, closeTo(144)],
      [W2, 7, closeTo((7 * 3600) / 145)],
    ]);
  });

  it("counts images per day, and masks per image by week and by stage", async () => {
    const t = await throughputStats(prisma(), await scope());
    // Days with masks (deleted aside): 01-05 a a a b; 01-13 b b; 01-14 c c c; 01-15 a c; 01-16 a a.
    expect(t.imagesPerDay.map((d) => [d.day.toISOString().slice(0, 10), d.images, d.masks])).toEqual([
      [W1, 2, 4],
      ["2026-01-13", 1, 2],
      ["2026-01-14", 1, 3],
      ["2026-01-15", 2, 2],
      ["2026-01-16", 1, 2],
    ]);
    // Dataset masks (rejected m4 and deleted d1 aside): a: m1 m2 m3 s1 f1 f2 = 6, first in week 1;
    // b: m5 m6 = 2, first in week 2; c: m7 m8 m9 s2 = 4, first in week 2.
    expect(
      t.masksPerImageByWeek.map((w) => [
        w.week.toISOString().slice(0, 10),
        w.images,
        w.masks,
        w.mean,
        w.median,
      ]),
    ).toEqual([
      [W1, 1, 6, 6, 6],
      [W2, 2, 6, 3, 3],
    ]);
    // Assisted: a 3, b 2, c 3 -> mean 8/3, median 3. Semi: a 1, c 1. Automatic: a 2.
    expect(t.masksPerImageByStage.map((s) => [s.stage, s.images, s.masks, s.mean, s.median])).toEqual([
      ["assisted_manual", 3, 8, closeTo(8 / 3), 3],
      ["semi_automatic", 2, 2, 1, 1],
      ["fully_automatic", 1, 2, 2, 2],
    ]);
  });
});

describe("review", () => {
  it("gives approved, corrected and rejected shares by stage and source", async () => {
    const r = await reviewStats(prisma(), await scope());
    // Work masks (deleted aside): 13. Reviewed: approved m1 m5 s1, corrected m2 m3 m7 f1, rejected m4.
    expect(r.totals).toEqual({
      masks: 13,
      unreviewed: 5,
      approved: 3,
      corrected: 4,
      rejected: 1,
      approvedShare: 3 / 8,
      correctedShare: 4 / 8,
      rejectedShare: 1 / 8,
    });
    expect(r.outcomes.map((o) => [o.stage, o.source, o.masks, o.approved, o.corrected, o.rejected])).toEqual([
      ["assisted_manual", "manual", 9, 2, 3, 1],
      ["semi_automatic", "semi_auto", 2, 1, 0, 0],
      ["fully_automatic", "auto", 2, 0, 1, 0],
    ]);
    const assisted = r.outcomes[0]!;
    expect([assisted.approvedShare, assisted.correctedShare, assisted.rejectedShare]).toEqual([
      2 / 6,
      3 / 6,
      1 / 6,
    ]);
    expect(r.outcomes[2]!.approvedShare).toBe(0);
  });

  it("gives the IoU of corrections as a histogram with the share above 0.9", async () => {
    const { iou } = await reviewStats(prisma(), await scope());
    // Corrections: 0.95, 0.55, 0.92, 0.98 -> bins 5 (0.5-0.6) and 9 (0.9-1.0, three).
    expect(iou.corrections).toBe(4);
    expect(iou.histogram.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 3]);
    expect(iou.shareAboveGood).toBe(0.75);
    expect(iou.mean).toBeCloseTo((0.95 + 0.55 + 0.92 + 0.98) / 4, 9);
    expect(iou.bySource).toEqual([
      { source: "auto", corrections: 1, shareAboveGood: 1 },
      { source: "manual", corrections: 3, shareAboveGood: 2 / 3 },
    ]);
    const auto = await reviewStats(prisma(), await scope({ source: "auto" }));
    expect(auto.iou.histogram.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it("counts a correction made through the review domain, with the IoU it computed then", async () => {
    const db = prisma();
    const image = await db.image.findFirstOrThrow({ where: { projectId, filename: "c.jpg" } });
    const mask = await db.mask.create({
      data: {
        imageId: image.id,
        rle: { ...rle("c", [0, 0, 10, 10]) },
        bbox: [0, 0, 10, 10],
        area: 100,
        cropBox: [],
        source: "manual",
        stage: "assisted_manual",
        authorId: users.alice,
        createdAt: at("2026-02-02", 9),
      },
    });
    // Corrected one column to the right: intersection 90, union 110, IoU 9/11 (bin 8).
    await reviewMask(
      db,
      { userId: users.bob },
      {
        maskId: mask.id,
        version: 1,
        reason: "",
        decision: "corrected",
        rle: rle("c", [1, 0, 10, 10]),
      },
    );
    const { iou } = await reviewStats(db, await scope({ from: new Date("2026-02-01T00:00:00Z") }));
    expect(iou.corrections).toBe(1);
    expect(iou.mean).toBeCloseTo(9 / 11, 9);
    expect(iou.histogram[8]!.count).toBe(1);
    expect(iou.shareAboveGood).toBe(0);
    await db.mask.delete({ where: { id: mask.id } });
  });
});

describe("dataset", () => {
  it("gives the masks-per-image distribution, relative sizes, centres and the stage/source split", async () => {
    const d = await datasetStats(prisma(), await scope());
    // a 6, b 2, c 4 masks: all in the 1-10 bin; mean 4, median 4.
    expect(d.masksPerImage).toMatchObject({ images: 3, masks: 12, mean: 4, median: 4 });
    expect(d.masksPerImage.bins.map((b) => b.images)).toEqual([3, 0, 0, 0, 0]);
    // sqrt(area / image area), image a = 500000 px, b = 40000, c = 10000; bin = floor(size * 20):
    // m1 sqrt(6000/500000) = 0.110 -> 2;   m2 sqrt(12000/500000) = 0.155 -> 3;  m3 sqrt(10000/500000) = 0.141 -> 2
    // s1 sqrt(21000/500000) = 0.205 -> 4;  f1 sqrt(6000/500000) = 0.110 -> 2;   f2 sqrt(2500/500000) = 0.071 -> 1
    // m5 sqrt(8280/40000) = 0.455 -> 9;    m6 sqrt(1760/40000) = 0.210 -> 4
    // m7 sqrt(960/10000) = 0.310 -> 6;     m8 sqrt(144/10000) = 0.12 -> 2;      m9 sqrt(420/10000) = 0.205 -> 4
    // s2 sqrt(110/10000) = 0.105 -> 2
    const sizes = [
      [6000, 500000],
      [12000, 500000],
      [10000, 500000],
      [21000, 500000],
      [6000, 500000],
      [2500, 500000],
      [8280, 40000],
      [1760, 40000],
      [960, 10000],
      [144, 10000],
      [420, 10000],
      [110, 10000],
    ].map(([area, pixels]) => Math.sqrt(area! / pixels!));
    const expectedBins = Array(20).fill(0);
    for (const s of sizes) expectedBins[Math.min(19, Math.floor(s * 20))] += 1;
    expect(expectedBins.slice(0, 10)).toEqual([0, 1, 5, 1, 3, 0, 1, 0, 0, 1]);
    expect(d.relativeSize.bins.map((b) => b.count)).toEqual(expectedBins);
    expect(d.relativeSize.masks).toBe(12);
    expect(d.relativeSize.mean).toBeCloseTo(sizes.reduce((a, b) => a + b, 0) / 12, 9);
    // Centres (bbox centre / image size) on a 10 x 10 grid, as [row, column]:
    // m1 (0.05, 0.06) -> [0,0]; m2 (0.875, 0.88) -> [8,8]; m3 (0.5, 0.5) -> [5,5]; s1 (0.405, 0.32) -> [3,4]
    // f1 (0.95, 0.06) -> [0,9]; f2 (0.025, 0.95) -> [9,0]; m5 (0.73, 0.725) -> [7,7]; m6 (0.11, 0.85) -> [8,1]
    // m7 (0.76, 0.75) -> [7,7]; m8 (0.11, 0.11) -> [1,1]; m9 (0.625, 0.12) -> [1,6]; s2 (0.255, 0.75) -> [7,2]
    const cells: [number, number][] = [
      [0, 0],
      [8, 8],
      [5, 5],
      [3, 4],
      [0, 9],
      [9, 0],
      [7, 7],
      [8, 1],
      [7, 7],
      [1, 1],
      [1, 6],
      [7, 2],
    ];
    const expectedCells = Array.from({ length: 10 }, () => Array(10).fill(0));
    for (const [row, col] of cells) expectedCells[row]![col] += 1;
    expect(d.centres.cells).toEqual(expectedCells);
    expect(d.centres.cells[7]![7]).toBe(2);
    expect(d.centres.masks).toBe(12);
    expect(d.split).toEqual([
      { stage: "assisted_manual", source: "manual", masks: 8, share: 8 / 12 },
      { stage: "semi_automatic", source: "semi_auto", masks: 2, share: 2 / 12 },
      { stage: "fully_automatic", source: "auto", masks: 2, share: 2 / 12 },
    ]);
  });

  it("describes an export's selection with that export's own filters", async () => {
    const db = prisma();
    // What SA-1B released: automatic masks only, accepted and proposed.
    const created = await createExport(
      db,
      { id: null },
      {
        projectId,
        params: { filters: { sourcePreset: "automatic", statuses: ["accepted", "proposed"] } },
      },
    );
    await claimExport(db, created.id);
    await completeExport(db, created.id, { images: 1, masks: 2, sizeBytes: 1 });
    const d = await datasetStats(db, await scope({ exportId: created.id }));
    expect(d.masksPerImage).toMatchObject({ images: 1, masks: 2, mean: 2 });
    expect(d.split).toEqual([{ stage: "fully_automatic", source: "auto", masks: 2, share: 1 }]);
    expect(d.centres.cells[0]![9]! + d.centres.cells[9]![0]!).toBe(2);
    // Another project's export is not this project's.
    await expect(statsScope(db, { projectId: otherProjectId, exportId: created.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("one annotator against the project", () => {
  it("compares seconds per mask week by week, masks per hour and review outcomes", async () => {
    const a = await annotatorStats(prisma(), { projectId }, users.alice);
    expect(a.annotator.id).toBe(users.alice);
    expect(a.seconds.annotator).toMatchObject({ masks: 5, median: 15 });
    expect(a.seconds.project).toMatchObject({ masks: 11, median: 20 });
    // Alice week 1: 10 20 30 -> 20; week 2: 5 15 -> 10. Project: 25 and 15.
    expect(
      a.weekly.map((w) => [w.week.toISOString().slice(0, 10), w.annotatorMedian, w.projectMedian]),
    ).toEqual([
      [W1, 20, 25],
      [W2, 10, 15],
    ]);
    // Alice 225/h; the median annotator of two (225 and 130.9) is their mean.
    expect(a.masksPerHour.annotator).toBeCloseTo(225, 6);
    expect(a.masksPerHour.projectMedian).toBeCloseTo((225 + (6 * 3600) / 165) / 2, 6);
    // Alice's reviewed masks: m1 approved, m2 m3 corrected, m5 approved.
    expect(a.review.annotator).toEqual({
      reviewed: 4,
      approvedShare: 0.5,
      correctedShare: 0.5,
      rejectedShare: 0,
    });
    expect(a.review.project.reviewed).toBe(8);
    await expect(annotatorStats(prisma(), { projectId }, randomUUID())).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("the MaskStat rollup", () => {
  it("follows every write to masks and timings, in the writing transaction", async () => {
    const db = prisma();
    const image = await db.image.findFirstOrThrow({ where: { projectId, filename: "b.jpg" } });
    const march = await scope({ from: new Date("2026-03-01T00:00:00Z") });
    const seconds = async () => (await timingStats(db, march)).overall;
    const mask = await db.mask.create({
      data: {
        imageId: image.id,
        rle: { ...rle("b", [0, 0, 10, 10]) },
        bbox: [0, 0, 10, 10],
        area: 100,
        cropBox: [],
        source: "manual",
        stage: "assisted_manual",
        authorId: users.alice,
        createdAt: at("2026-03-02", 9),
      },
    });
    expect(await seconds()).toMatchObject({ masks: 0 });
    await db.maskTiming.create({
      data: {
        maskId: mask.id,
        annotatorId: users.alice,
        startedAt: at("2026-03-02", 8),
        finishedAt: at("2026-03-02", 9),
        activeMs: 7000,
      },
    });
    expect(await seconds()).toEqual({ masks: 1, median: 7, p90: 7 });
    await db.maskTiming.update({ where: { maskId: mask.id }, data: { activeMs: 9000 } });
    expect(await seconds()).toMatchObject({ masks: 1, median: 9 });
    await db.mask.update({ where: { id: mask.id }, data: { status: "deleted" } });
    expect(await seconds()).toMatchObject({ masks: 0 });
    await db.mask.update({ where: { id: mask.id }, data: { status: "accepted", stage: "semi_automatic" } });
    expect((await timingStats(db, march)).byStage.map((g) => g.key)).toEqual(["semi_automatic"]);
    await db.maskTiming.delete({ where: { maskId: mask.id } });
    expect(await seconds()).toMatchObject({ masks: 0 });
    expect(await db.maskStat.count({ where: { maskId: mask.id } })).toBe(1);
    await db.mask.delete({ where: { id: mask.id } });
    expect(await db.maskStat.count({ where: { maskId: mask.id } })).toBe(0);

    // Saved with its timing in one transaction (as the app does): one row, written at commit, timing in it.
    const saved = await db.$transaction(async (tx) => {
      const row = await tx.mask.create({
        data: {
          imageId: image.id,
          rle: { ...rle("b", [0, 0, 10, 10]) },
          bbox: [0, 0, 10, 10],
          area: 100,
          cropBox: [],
          source: "manual",
          stage: "assisted_manual",
          authorId: users.bob,
          createdAt: at("2026-03-03", 9),
        },
      });
      await tx.maskTiming.create({
        data: {
          maskId: row.id,
          annotatorId: users.bob,
          startedAt: at("2026-03-03", 8),
          finishedAt: at("2026-03-03", 9),
          activeMs: 4000,
          clicks: 3,
        },
      });
      // Not yet: the row is written when the transaction commits.
      expect(await tx.maskStat.count({ where: { maskId: row.id } })).toBe(0);
      return row;
    });
    expect(await db.maskStat.findUniqueOrThrow({ where: { maskId: saved.id } })).toMatchObject({
      activeMs: 4000,
      clicks: 3,
      annotatorId: users.bob,
      projectId,
      centreX: 5 / 200,
    });
    await db.mask.delete({ where: { id: saved.id } });
    // Created and deleted in one transaction: no row at all.
    const gone = await db.$transaction(async (tx) => {
      const row = await tx.mask.create({
        data: {
          imageId: image.id,
          rle: { ...rle("b", [0, 0, 10, 10]) },
          bbox: [0, 0, 10, 10],
          area: 100,
          cropBox: [],
          source: "manual",
          stage: "assisted_manual",
        },
      });
      await tx.mask.delete({ where: { id: row.id } });
      return row.id;
    });
    expect(await db.maskStat.count({ where: { maskId: gone } })).toBe(0);
  });
});

describe("the per-mask table", () => {
  async function rows(view: "timing" | "throughput" | "review" | "dataset", batch = 3) {
    const out: StatsTableRow[] = [];
    for await (const page of statsTableRows(prisma(), await scope(), view, batch)) out.push(...page);
    return out;
  }

  it("lists each view's masks across keyset batches, with the numbers the charts use", async () => {
    const timing = await rows("timing");
    expect(timing).toHaveLength(11);
    expect(new Set(timing.map((r) => r.maskId)).size).toBe(11);
    expect((await rows("review")).length).toBe(13);
    const dataset = await rows("dataset");
    expect(dataset.map((r) => r.maskId).sort()).toEqual(
      ["m1", "m2", "m3", "m5", "m6", "m7", "m8", "m9", "s1", "s2", "f1", "f2"].map((k) => maskIds[k]).sort(),
    );
    const m2 = timing.find((r) => r.maskId === maskIds.m2)!;
    expect(m2).toMatchObject({
      activeSeconds: 20,
      clicks: 4,
      boxes: 1,
      reviewDecision: "corrected",
      correctionIou: 0.95,
      stage: "assisted_manual",
      annotator: `alice-${tag}`,
      filename: "a.jpg",
    });
    expect(m2.relativeSize).toBeCloseTo(Math.sqrt(12000 / 500000), 9);
    expect([m2.centreX, m2.centreY]).toEqual([0.875, 0.88]);
  });

  it("writes CSV with a header, quoting and no formula injection", () => {
    const header = statsCsvHeader();
    expect(header.startsWith("maskId,imageId,filename,createdAt,")).toBe(true);
    const line = statsCsvLines([
      {
        maskId: "x",
        imageId: "y",
        filename: 'a,"b".jpg',
        createdAt: new Date("2026-01-05T09:00:00Z"),
        stage: "assisted_manual",
        source: "manual",
        status: "accepted",
        modelVersion: null,
        annotator: "=cmd()",
        activeSeconds: 1.5,
        clicks: 1,
        boxes: 0,
        brushStrokes: 0,
        undos: 0,
        reviewDecision: null,
        correctionIou: null,
        area: 10,
        imageWidth: 100,
        imageHeight: 100,
        relativeSize: 0.1,
        centreX: 0.5,
        centreY: 0.5,
      },
    ]);
    expect(line).toBe(
      `x,y,"a,""b"".jpg",2026-01-05T09:00:00.000Z,assisted_manual,manual,accepted,,'=cmd(),1.5,1,0,0,0,,,10,100,100,0.1,0.5,0.5\r\n`,
    );
  });
});

describe("percentiles over many masks", () => {
  /**
   * The percentiles are read from 128 ms bin counts and then from the bins themselves (timing.ts): here 3000
   * timed masks whose active times fall on bin edges, at bin ends, in ties and spread over minutes, in 12
   * weeks, two annotators, two stages and two model versions (and none), against percentile_cont itself.
   */
  let bulk: string;
  beforeAll(async () => {
    const db = prisma();
    bulk = (await db.project.create({ data: { name: `stats-bulk-${randomUUID()}` } })).id;
    const image = await db.image.create({
      data: {
        projectId: bulk,
        filename: "bulk.jpg",
        mimeType: "image/jpeg",
        width: 100,
        height: 100,
        sizeBytes: 1n,
        sha256: randomUUID().replaceAll("-", "").padStart(64, "0"),
        storageKey: "images/stats/bulk",
        status: "ready",
      },
    });
    await db.$transaction([
      db.$executeRaw`
        INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "cropBox", source, stage, "modelVersionId", "authorId",
          status, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), ${image.id}::uuid, '{"size":[100,100],"counts":"0"}'::jsonb,
          ARRAY[0, 0, 10, 10]::float8[], 100, ARRAY[]::float8[],
          (CASE WHEN g % 5 = 0 THEN 'semi_auto' ELSE 'manual' END)::"MaskSource",
          (CASE WHEN g % 5 = 0 THEN 'semi_automatic' ELSE 'assisted_manual' END)::"Stage",
          CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN ${versions.v1}::uuid ELSE ${versions.v2}::uuid END,
          CASE WHEN g % 2 = 0 THEN ${users.alice}::uuid ELSE ${users.bob}::uuid END,
          (CASE WHEN g % 50 = 7 THEN 'deleted' WHEN g % 11 = 0 THEN 'rejected' ELSE 'accepted' END)::"MaskStatus",
          timestamp '2026-02-02' + g * interval '37 minutes', now()
        FROM generate_series(0, 2999) g`,
      db.$executeRaw`
        INSERT INTO "MaskTiming" (id, "maskId", "annotatorId", "startedAt", "finishedAt", "activeMs", clicks, boxes,
          "brushStrokes", undos)
        SELECT gen_random_uuid(), m.id, m."authorId", m."createdAt", m."createdAt",
          CASE n % 3 WHEN 0 THEN (n % 50) * 128 WHEN 1 THEN 5000 + n * 7919 % 40000 ELSE 127 + (n % 300) * 128 END,
          n % 7, n % 2, (n % 5 = 0)::int, n % 3
        FROM (SELECT id, "authorId", "createdAt", row_number() OVER (ORDER BY "createdAt") AS n
              FROM "Mask" WHERE "imageId" = ${image.id}::uuid) m`,
    ]);
  });

  /** percentile_cont over the same masks, grouped by `key` (SQL over MaskStat). */
  async function reference(key: string, extra = "") {
    const rows = await prisma().$queryRawUnsafe<
      { key: string; masks: number; median: number; p90: number }[]
    >(`
      SELECT (${key})::text AS key, count(*)::int AS masks,
        (percentile_cont(0.5) WITHIN GROUP (ORDER BY "activeMs") / 1000.0)::float8 AS median,
        (percentile_cont(0.9) WITHIN GROUP (ORDER BY "activeMs") / 1000.0)::float8 AS p90
      FROM "MaskStat" WHERE "projectId" = '${bulk}' AND status <> 'deleted' AND "activeMs" IS NOT NULL ${extra}
      GROUP BY 1 ORDER BY (${key})::text COLLATE "C"`);
    return rows;
  }
  const sorted = (rows: { key: string | null; masks: number; median: number | null; p90: number | null }[]) =>
    rows
      .map(({ key, masks, median, p90 }) => ({ key, masks, median, p90 }))
      .sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1));

  it("equal percentile_cont overall, by week, annotator, stage and model version", async () => {
    const db = prisma();
    const all = await statsScope(db, { projectId: bulk });
    const [overall] = await reference("0");
    expect(overall!.masks).toBeGreaterThan(2900);
    expect(await secondsPerMask(db, all)).toEqual({
      masks: overall!.masks,
      median: overall!.median,
      p90: overall!.p90,
    });
    const weeks = await reference(`to_char(date_trunc('week', "createdAt"), 'YYYY-MM-DD')`);
    expect(weeks).toHaveLength(12);
    const byWeek = (await secondsPerMaskByWeek(db, all)).map(({ week, ...r }) => ({
      key: week.toISOString().slice(0, 10),
      ...r,
    }));
    expect(byWeek).toEqual(weeks);
    const together = await secondsPerMaskWithWeeks(db, all);
    expect(together.overall).toEqual(await secondsPerMask(db, all));
    expect(together.byWeek).toEqual(await secondsPerMaskByWeek(db, all));
    expect(sorted(await secondsPerMaskBy(db, all, "annotator"))).toEqual(await reference(`"annotatorId"`));
    expect(sorted(await secondsPerMaskBy(db, all, "stage"))).toEqual(await reference("stage"));
    // Masks without a model version form their own group (key null; "~" sorts it where SQL's NULL goes).
    const models = sorted(
      (await secondsPerMaskBy(db, all, "modelVersion")).map((r) => ({ ...r, key: r.key ?? "~" })),
    );
    const expected = await reference(`coalesce("modelVersionId"::text, '~')`);
    expect(models).toEqual(expected);
    expect(models).toHaveLength(3);
  });

  it("equal percentile_cont under filters", async () => {
    const db = prisma();
    const narrowed = await statsScope(db, {
      projectId: bulk,
      from: new Date("2026-02-20T00:00:00Z"),
      to: new Date("2026-03-20T12:00:00Z"),
      stage: "assisted_manual",
      annotatorId: users.bob,
    });
    const extra = `AND "createdAt" >= '2026-02-20' AND "createdAt" < '2026-03-20 12:00' AND stage = 'assisted_manual'
      AND "authorId" = '${users.bob}'`;
    const [overall] = await reference("0", extra);
    expect(await secondsPerMask(db, narrowed)).toEqual({
      masks: overall!.masks,
      median: overall!.median,
      p90: overall!.p90,
    });
    expect(sorted(await secondsPerMaskBy(db, narrowed, "stage"))).toEqual(await reference("stage", extra));
  });

  it("gives interaction medians, means and totals as the SQL aggregates do", async () => {
    const db = prisma();
    const [expected] = await db.$queryRawUnsafe<Record<string, number>[]>(`
      SELECT count(*)::int AS masks,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY clicks)::float8 AS clicks_median, avg(clicks)::float8 AS clicks_mean,
        sum(clicks)::int AS clicks_total,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY undos)::float8 AS undos_median, sum(undos)::int AS undos_total,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY boxes)::float8 AS boxes_median
      FROM "MaskStat" WHERE "projectId" = '${bulk}' AND status <> 'deleted' AND "activeMs" IS NOT NULL`);
    const got = await interactionsPerMask(db, await statsScope(db, { projectId: bulk }));
    expect(got.masks).toBe(expected!.masks);
    expect(got.clicks).toEqual({
      median: expected!.clicks_median,
      mean: closeTo(expected!.clicks_mean!),
      total: expected!.clicks_total,
    });
    expect(got.undos).toMatchObject({ median: expected!.undos_median, total: expected!.undos_total });
    expect(got.boxes.median).toBe(expected!.boxes_median);
  });
});

function closeTo(value: number) {
  return expect.closeTo(value, 9);
}
