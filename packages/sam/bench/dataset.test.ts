import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatasetError, listDataset, loadGroundTruth } from "./dataset";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "noc-dataset-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function layout(images: string[], gts: string[]): Promise<void> {
  await mkdir(path.join(dir, "img"));
  await mkdir(path.join(dir, "gt"));
  for (const f of images) await writeFile(path.join(dir, "img", f), "");
  for (const f of gts) await writeFile(path.join(dir, "gt", f), "");
}

describe("listDataset", () => {
  it("pairs images with ground truth by basename, any image extension, sorted", async () => {
    await layout(["b.JPG", "a.png", "c.webp", "notes.txt"], ["a.png", "b.png", "c.png", "unused.png"]);
    const samples = await listDataset(dir);
    expect(samples.map((s) => [s.name, path.basename(s.imagePath), path.basename(s.gtPath)])).toEqual([
      ["a", "a.png", "a.png"],
      ["b", "b.JPG", "b.png"],
      ["c", "c.webp", "c.png"],
    ]);
  });

  it("names the images that have no ground truth", async () => {
    await layout(["a.jpg", "b.jpg"], ["a.png"]);
    await expect(listDataset(dir)).rejects.toThrow(/no ground truth.*b\.jpg/);
  });

  it("rejects a missing dir, a missing img/ or gt/, and an empty img/", async () => {
    await expect(listDataset(path.join(dir, "nope"))).rejects.toBeInstanceOf(DatasetError);
    await mkdir(path.join(dir, "img"));
    await expect(listDataset(dir)).rejects.toThrow(/no gt\/ folder/);
    await mkdir(path.join(dir, "gt"));
    await expect(listDataset(dir)).rejects.toThrow(/no images/);
  });
});

describe("loadGroundTruth", () => {
  it("reads 255 as object and 128 as ignored, from RGB or grey PNGs", async () => {
    const values = [0, 128, 255, 200, 100, 255];
    const rgb = Buffer.from(values.flatMap((v) => [v, v, v]));
    const file = path.join(dir, "gt.png");
    await sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toFile(file);
    const gt = await loadGroundTruth(file);
    expect(gt.object).toMatchObject({ width: 3, height: 2 });
    expect(Array.from(gt.object.data)).toEqual([0, 0, 1, 1, 0, 1]);
    expect(Array.from(gt.ignore?.data ?? [])).toEqual([0, 1, 0, 0, 0, 0]);

    const grey = path.join(dir, "grey.png");
    await sharp(Buffer.from(values), { raw: { width: 3, height: 2, channels: 1 } })
      .png()
      .toFile(grey);
    expect(Array.from((await loadGroundTruth(grey)).object.data)).toEqual([0, 0, 1, 1, 0, 1]);
  });
});
