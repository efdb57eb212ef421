import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { maskExtent } from "../bbox";
import { untarBytes } from "../import/testing";
import { maskIoU } from "../iou";
import { type BinaryMask, createMask } from "../mask";
import { decodeRle, encodeMask } from "../rle";
import { sa1bExportFileSchema } from "../sa1b-file";
import { blobMask, rectMask, seededRandom } from "../test-utils";
import { CocoCategories, cocoAnnotation } from "./coco";
import { ManifestBuilder, splitOf, timeStats } from "./manifest";
import { shardName } from "./names";
import { annotationRecord, type ExportMaskInput, samBbox } from "./records";
import { releaseSize, resizeMaskArea } from "./resize";
import { TarShardWriter } from "./tar-shard";

function input(mask: BinaryMask, extra: Partial<ExportMaskInput> = {}): ExportMaskInput {
  return {
    rle: encodeMask(mask),
    predictedIou: 0.93,
    stabilityScore: 0.97,
    pointCoords: [[10, 20]],
    cropBox: [],
    source: "auto",
    stage: "fully_automatic",
    label: "",
    ...extra,
  };
}

/** The original mask drawn as a grey image, resized by sharp (its default filter), thresholded at half. */
async function sharpResize(mask: BinaryMask, width: number, height: number): Promise<BinaryMask> {
  const grey = Buffer.from(mask.data.map((v) => (v ? 255 : 0)));
  const resized = await sharp(grey, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .resize(width, height, { fit: "fill" })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(resized.map((v) => (v >= 128 ? 1 : 0))) };
}

describe("annotation records", () => {
  it("writes pycocotools' RLE strings (known vectors from rle.test.ts), SAM's bbox and the area", () => {
    const square = rectMask(25, 25, 5, 5, 10, 10);
    const record = annotationRecord(input(square), 1, releaseSize(25, 25), { width: 25, height: 25 });
    expect(record?.segmentation).toEqual({ size: [25, 25], counts: "R45d00000000b;" });
    // Columns and rows 5..9: SAM's box is [5, 5, 9 - 5, 9 - 5].
    expect(record?.bbox).toEqual([5, 5, 4, 4]);
    expect(record?.area).toBe(25);
    expect(record?.crop_box).toEqual([0, 0, 25, 25]);
    const corner = annotationRecord(input(rectMask(25, 25, 0, 0, 5, 5)), 2, releaseSize(25, 25), {
      width: 25,
      height: 25,
    });
    expect(corner?.segmentation.counts).toBe("05d00000000d?");
    expect(samBbox(encodeMask(rectMask(25, 25, 0, 0, 25, 25)))).toEqual([0, 0, 24, 24]);
  });

  it("validates against the export schema, with source, stage and label", () => {
    const mask = rectMask(40, 30, 3, 4, 20, 25);
    const record = annotationRecord(
      input(mask, { source: "manual", stage: "assisted_manual", label: "cup", cropBox: [0, 0, 20, 15] }),
      7,
      releaseSize(40, 30),
      { width: 40, height: 30 },
    );
    const file = {
      image: { image_id: 1, width: 40, height: 30, file_name: "sa_1.jpg" },
      annotations: [record],
    };
    const parsed = sa1bExportFileSchema.parse(file);
    expect(parsed.annotations[0]).toMatchObject({ label: "cup", source: "manual", crop_box: [0, 0, 20, 15] });
  });
});

describe("release downsampling", () => {
  it("scales the shortest side to N with rounded sides, and leaves smaller images alone", () => {
    expect(releaseSize(4000, 3000, 1500)).toMatchObject({ width: 2000, height: 1500, resized: true });
    expect(releaseSize(1001, 3001, 500)).toMatchObject({ width: 500, height: 1499 });
    expect(releaseSize(1200, 900, 1500)).toMatchObject({ width: 1200, height: 900, resized: false });
    expect(releaseSize(1200, 900)).toMatchObject({ resized: false });
  });

  it("gives masks with IoU >= 0.98 to the originals area-resized, and bboxes/areas of their own pixels", async () => {
    const rng = seededRandom(12);
    const original = { width: 301, height: 233 };
    const size = releaseSize(original.width, original.height, 100);
    for (let i = 0; i < 20; i++) {
      const mask = blobMask(rng, original.width, original.height, 1 + (i % 3));
      const record = annotationRecord(
        input(mask, { pointCoords: [[150, 100]], cropBox: [30, 20, 150, 120] }),
        i,
        size,
        original,
      );
      if (!record) continue;
      const exported = decodeRle(record.segmentation);
      expect([exported.width, exported.height]).toEqual([size.width, size.height]);
      const reference = await sharpResize(mask, size.width, size.height);
      expect(maskIoU(exported, reference)).toBeGreaterThanOrEqual(0.98);
      const e = maskExtent(exported)!;
      expect(record.bbox).toEqual([e.x0, e.y0, e.x1 - e.x0, e.y1 - e.y0]);
      expect(record.area).toBe(exported.data.reduce((s, v) => s + v, 0));
      expect(record.point_coords[0]![0]).toBeCloseTo(150 * size.scaleX, 9);
      expect(record.crop_box).toEqual([
        30 * size.scaleX,
        20 * size.scaleY,
        150 * size.scaleX,
        120 * size.scaleY,
      ]);
    }
  });

  it("drops a mask that has no pixel left after downsampling", () => {
    const dot = createMask(400, 400);
    dot.data[1 * 400 + 1] = 1;
    expect(
      annotationRecord(input(dot), 1, releaseSize(400, 400, 100), { width: 400, height: 400 }),
    ).toBeNull();
  });

  it("maps a full mask to a full mask", () => {
    const full = resizeMaskArea(rectMask(9, 7, 0, 0, 9, 7), 4, 3);
    expect([...full.data].every((v) => v === 1)).toBe(true);
  });
});

describe("manifest", () => {
  it("splits by the sha256's first 8 hex digits, stably", () => {
    expect(splitOf(`00000000${"a".repeat(56)}`)).toBe("val");
    expect(splitOf(`0ccccccc${"a".repeat(56)}`)).toBe("val"); // 0.05 of 2^32 is 0x0ccccccc.cc
    expect(splitOf(`0ccccccd${"a".repeat(56)}`)).toBe("train");
    expect(splitOf(`ffffffff${"0".repeat(56)}`, 1)).toBe("val");
    const rng = seededRandom(3);
    const hashes = Array.from({ length: 4000 }, () =>
      Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(rng() * 16)]).join(""),
    );
    const first = hashes.map((h) => splitOf(h));
    expect(hashes.map((h) => splitOf(h))).toEqual(first);
    const val = first.filter((s) => s === "val").length / hashes.length;
    expect(val).toBeGreaterThan(0.035);
    expect(val).toBeLessThan(0.065);
    expect(() => splitOf("xyz")).toThrow(RangeError);
  });

  it("computes time statistics (mean, median, nearest-rank p90)", () => {
    expect(timeStats([])).toEqual({ count: 0, meanMs: null, medianMs: null, p90Ms: null });
    expect(timeStats([5, 1, 3, 2, 4, 6, 7, 8, 9, 10])).toEqual({
      count: 10,
      meanMs: 5.5,
      medianMs: 5.5,
      p90Ms: 9,
    });
  });

  it("rows count stages, sources and automatic model versions; the summary folds them", () => {
    const builder = new ManifestBuilder();
    const row = builder.addImage({
      imageId: 1,
      sourceImageId: "img",
      sha256: `ffffffff${"0".repeat(56)}`,
      shard: shardName(0),
      members: { image: "sa_1.jpg", annotations: "sa_1.json" },
      width: 10,
      height: 10,
      masks: [
        {
          stage: "fully_automatic",
          source: "auto",
          modelVersion: "v2",
          activeMs: null,
          reviewDecision: null,
        },
        {
          stage: "assisted_manual",
          source: "manual",
          modelVersion: "v1",
          activeMs: 4000,
          reviewDecision: "approved",
        },
        {
          stage: "semi_automatic",
          source: "semi_auto",
          modelVersion: "v1",
          activeMs: 2000,
          reviewDecision: "corrected",
        },
      ],
    });
    expect(row).toMatchObject({
      shard: "sa_000000.tar",
      split: "train",
      masks: 3,
      byStage: { fully_automatic: 1, assisted_manual: 1, semi_automatic: 1 },
      bySource: { auto: 1, manual: 1, semi_auto: 1 },
      modelVersions: ["v1", "v2"],
    });
    const summary = builder.summary({
      exportId: "e",
      project: "p",
      createdAt: "t",
      params: {},
      shards: ["sa_000000.tar"],
    });
    expect(summary.totals).toMatchObject({ images: 1, masks: 3, train: 1, val: 0 });
    expect(summary.timePerMask).toEqual({ count: 2, meanMs: 3000, medianMs: 3000, p90Ms: 4000 });
    expect(summary.reviewOutcomes).toEqual({ unreviewed: 1, approved: 1, corrected: 1 });
  });
});

describe("COCO entries", () => {
  it("numbers categories by first label and uses COCO's whole-pixel bbox", () => {
    const categories = new CocoCategories();
    const segmentation = encodeMask(rectMask(25, 25, 5, 5, 10, 10));
    const a = cocoAnnotation(
      { id: 1, segmentation, area: 25, predicted_iou: 0.9, label: "cat" },
      3,
      categories,
    );
    const b = cocoAnnotation({ id: 2, segmentation, area: 25, predicted_iou: 0.9 }, 3, categories);
    expect([a.category_id, b.category_id]).toEqual([1, 2]);
    expect(a.bbox).toEqual([5, 5, 5, 5]);
    expect(categories.list().map((c) => c.name)).toEqual(["cat", "object"]);
  });
});

describe("tar shards", () => {
  it("writes members a tar reader unpacks byte for byte", async () => {
    const shard = new TarShardWriter(new Date("2026-01-01T00:00:00Z"));
    const reading = untarBytes(shard.readable);
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await shard.add("sa_1.jpg", big);
    await shard.add("sa_1.json", new TextEncoder().encode('{"a":1}'));
    shard.finish();
    const members = await reading;
    expect([...members.keys()]).toEqual(["sa_1.jpg", "sa_1.json"]);
    expect(Buffer.compare(members.get("sa_1.jpg")!, Buffer.from(big))).toBe(0);
    expect(members.get("sa_1.json")!.toString()).toBe('{"a":1}');
  });
});
