/**
 * The data engine's loop: an SA-1B file imported into a project and exported again gives back every
 * mask with identical pixels (the same RLE string), with its scores, points and crop box.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resetEnvCache } from "@sas/config";
import { disconnectPrisma, exportParamsSchema, prisma } from "@sas/db";
import { writeSa1bExport } from "@sas/db/export";
import { closeQueues } from "@sas/queue";
import { encodeMask, rleArea, rleToBbox, type Sa1bFile, sa1bExportFileSchema } from "@sas/sa1b";
import { untarBytes } from "@sas/sa1b/import/testing";
import { blobMask, seededRandom } from "@sas/sa1b/test-utils";
import { LocalDiskStorage, storage } from "@sas/storage";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSa1b } from "./sa1b-import";
import { fixtureImage } from "./sa1b-import.fixtures";

describe("SA-1B round trip: import, then export", () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "sas-sa1b-roundtrip-"));
    process.env.DATA_DIR = path.join(work, "data");
    resetEnvCache();
  });

  afterAll(async () => {
    await closeQueues();
    await disconnectPrisma();
    await rm(work, { recursive: true, force: true });
  });

  it("every mask comes back with the same RLE, scores, points and crop box", async () => {
    const bytes = await fixtureImage("dog.jpg");
    const { width, height } = await sharp(bytes).metadata();
    const rng = seededRandom(42);
    const source: Sa1bFile = {
      image: { image_id: 77, width: width!, height: height!, file_name: "sa_77.jpg" },
      annotations: Array.from({ length: 4 }, (_, i) => {
        const segmentation = encodeMask(blobMask(rng, width!, height!, 1 + (i % 2)));
        const [x, y, w, h] = rleToBbox(segmentation);
        return {
          id: 1000 + i,
          segmentation,
          bbox: [x, y, w - 1, h - 1],
          area: rleArea(segmentation),
          predicted_iou: 0.8 + i / 100,
          stability_score: 0.9 + i / 100,
          point_coords: [[x + w / 2, y + h / 2]],
          crop_box: i === 0 ? [0, 0, width!, height!] : [10 * i, 5 * i, width! / 2, height! / 2],
        };
      }),
    };
    const folder = path.join(work, "sa1b");
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "sa_77.jpg"), bytes);
    await writeFile(path.join(folder, "sa_77.json"), JSON.stringify(source));

    const db = prisma();
    const project = await db.project.create({ data: { name: `roundtrip-${Date.now()}` } });
    const imported = await importSa1b({ db, blobs: storage(), projectId: project.id, paths: [folder] });
    expect(imported.failed).toEqual([]);
    expect(imported.masksImported).toBe(4);

    const out = new LocalDiskStorage(path.join(work, "out"));
    const result = await writeSa1bExport(db, storage(), out, {
      exportId: "roundtrip",
      projectId: project.id,
      projectName: project.name,
      // Imported SA-1B masks are automatic: the SA-1B release preset keeps them all.
      params: exportParamsSchema.parse({ filters: { sourcePreset: "automatic" } }),
      createdAt: new Date(),
    });
    expect([result.images, result.masks]).toEqual([1, 4]);
    const members = await untarBytes(await readFile(path.join(work, "out", "sa_000000.tar")));
    const exported = sa1bExportFileSchema.parse(JSON.parse(members.get("sa_1.json")!.toString()));
    expect([exported.image.width, exported.image.height]).toEqual([width, height]);

    const byCounts = new Map(source.annotations.map((a) => [a.segmentation.counts, a]));
    for (const a of exported.annotations) {
      const original = byCounts.get(a.segmentation.counts);
      expect(original, "an exported mask with the pixels of an imported one").toBeDefined();
      expect(a.segmentation).toEqual(original!.segmentation);
      expect(a.bbox).toEqual(original!.bbox);
      expect(a.predicted_iou).toBeCloseTo(original!.predicted_iou, 12);
      expect(a.stability_score).toBeCloseTo(original!.stability_score, 12);
      expect(a.point_coords).toEqual(original!.point_coords);
      expect(a.crop_box).toEqual(original!.crop_box);
      expect([a.source, a.stage]).toEqual(["auto", "fully_automatic"]);
      byCounts.delete(a.segmentation.counts);
    }
    expect(byCounts.size).toBe(0);
  });
});
