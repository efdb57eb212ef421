import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMask } from "../rle";
import { rectMask } from "../test-utils";
import { openSa1bSource, readSa1bFolder, readSa1bTar, type Sa1bReadItem } from "./index";
import { annotationFor, jsonBytes, sa1bFileFor, type TarMember, tarBytes } from "./testing";

const W = 32;
const H = 24;

/** A real JPEG, decoded the way an import decodes it (header, then every pixel). */
async function jpeg(width: number, height: number): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } } })
    .jpeg()
    .toBuffer();
}

async function probeImage(_name: string, bytes: Uint8Array) {
  const { width, height } = await sharp(bytes).metadata();
  await sharp(bytes, { failOn: "truncated" }).stats();
  return { width, height, decoded: true };
}

const options = { probeImage };

async function collect(items: AsyncIterable<Sa1bReadItem<{ width: number; height: number }>>) {
  const good: string[] = [];
  const bad: { file: string; error: string }[] = [];
  for await (const item of items) {
    if (item.ok) good.push(item.annotationsFile);
    else bad.push({ file: item.file, error: item.error });
  }
  return { good, bad };
}

let dir: string;
let image: Uint8Array;
const good = (n: number) =>
  sa1bFileFor(n, { width: W, height: H }, [
    annotationFor(1, rectMask(W, H, 2, 3, 10, 12)),
    annotationFor(2, rectMask(W, H, 12, 0, 32, 24), {
      source: "manual",
      stage: "assisted_manual",
      label: "dog",
    }),
  ]);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sa1b-readers-"));
  image = await jpeg(W, H);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeTar(name: string, members: TarMember[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, await tarBytes(members));
  return file;
}

describe("readSa1bTar", () => {
  it("pairs members whichever comes first and yields every field, extras included", async () => {
    const file = await writeTar("order.tar", [
      { name: "sa_1.jpg", bytes: image },
      { name: "sa_1.json", bytes: jsonBytes(good(1)) },
      { name: "sa_2.json", bytes: jsonBytes(good(2)) },
      { name: "README.txt", bytes: new TextEncoder().encode("not part of it") },
      { name: "sa_2.jpg", bytes: image },
    ]);
    const items = [];
    for await (const item of readSa1bTar(file, options)) items.push(item);
    expect(items.map((i) => (i.ok ? i.annotationsFile : i.error))).toEqual(["sa_1.json", "sa_2.json"]);
    const first = items[0]!;
    if (!first.ok) throw new Error("expected a pair");
    expect(first.imageFile).toBe("sa_1.jpg");
    expect(first.probed).toEqual({ width: W, height: H, decoded: true });
    expect(first.file.annotations[1]).toMatchObject({
      source: "manual",
      stage: "assisted_manual",
      label: "dog",
    });
    expect(first.file.annotations[0]!.segmentation).toEqual(encodeMask(rectMask(W, H, 2, 3, 10, 12)));
  });

  it("reports each bad file for itself while the good ones in the same shard come through", async () => {
    const wrongSize = good(2);
    wrongSize.annotations[1]!.segmentation = encodeMask(rectMask(20, 10, 0, 0, 5, 5));
    const badCounts = good(3);
    badCounts.annotations[0]!.segmentation = { size: [H, W], counts: "0?" };
    const negativeBbox = good(4);
    negativeBbox.annotations[0]!.bbox = [-1, 3, 7, 8];
    // Consistent within itself (masks 64 wide too), but the JPEG beside it is 32 wide.
    const statedSize = sa1bFileFor(6, { width: 64, height: H }, [
      annotationFor(1, rectMask(64, H, 0, 0, 40, 9)),
    ]);
    const file = await writeTar("mixed.tar", [
      { name: "sa_1.jpg", bytes: image },
      { name: "sa_1.json", bytes: jsonBytes(good(1)) },
      { name: "sa_2.jpg", bytes: image },
      { name: "sa_2.json", bytes: jsonBytes(wrongSize) },
      { name: "sa_3.jpg", bytes: image },
      { name: "sa_3.json", bytes: jsonBytes(badCounts) },
      { name: "sa_4.jpg", bytes: image },
      { name: "sa_4.json", bytes: jsonBytes(negativeBbox) },
      { name: "sa_5.json", bytes: jsonBytes(good(5)) },
      { name: "sa_6.jpg", bytes: image },
      { name: "sa_6.json", bytes: new TextEncoder().encode(JSON.stringify(statedSize)) },
      { name: "sa_8.jpg", bytes: image.subarray(0, 200) },
      { name: "sa_8.json", bytes: jsonBytes(good(8)) },
      { name: "sa_9.jpg", bytes: image },
      { name: "sa_9.json", bytes: new TextEncoder().encode("{ not json") },
      { name: "sa_10.jpg", bytes: image },
      { name: "sa_10.json", bytes: jsonBytes(good(10)) },
      { name: "sa_11.jpg", bytes: image },
    ]);
    const { good: imported, bad } = await collect(readSa1bTar(file, options));
    expect(imported).toEqual(["sa_1.json", "sa_10.json"]);
    const byFile = Object.fromEntries(bad.map((b) => [b.file, b.error]));
    expect(Object.keys(byFile).sort()).toEqual(
      [
        "sa_2.json",
        "sa_3.json",
        "sa_4.json",
        "sa_5.jpg",
        "sa_6.json",
        "sa_8.jpg",
        "sa_9.json",
        "sa_11.json",
      ].sort(),
    );
    expect(byFile["sa_2.json"]).toBe(
      "annotations.1.segmentation.size: [10, 20] does not match the image's [height, width] [24, 32]",
    );
    expect(byFile["sa_3.json"]).toMatch(/^annotations\.0\.segmentation\.counts: /);
    expect(byFile["sa_4.json"]).toBe("annotations.0.bbox: negative coordinate in [-1, 3, 7, 8]");
    expect(byFile["sa_5.jpg"]).toBe("missing image");
    expect(byFile["sa_6.json"]).toBe(
      "image.width x image.height 64x24 does not match the image's decoded size 32x24",
    );
    expect(byFile["sa_8.jpg"]).toMatch(/./);
    expect(byFile["sa_9.json"]).toMatch(/^not valid JSON/);
    expect(byFile["sa_11.json"]).toBe("missing annotation file for sa_11.jpg");
  });

  it("reports a truncated archive after its last whole member, having yielded the pairs before it", async () => {
    const whole = await tarBytes([
      { name: "sa_1.jpg", bytes: image },
      { name: "sa_1.json", bytes: jsonBytes(good(1)) },
      { name: "sa_5.jpg", bytes: image },
      { name: "sa_5.json", bytes: jsonBytes(good(5)) },
      { name: "sa_6.jpg", bytes: image },
      { name: "sa_6.json", bytes: jsonBytes(good(6)) },
    ]);
    // Cut inside sa_6.json's data: its header (512 bytes) and a few bytes of it remain.
    const sa6JsonStart = whole.length - 1024 - Math.ceil(jsonBytes(good(6)).byteLength / 512) * 512;
    const file = path.join(dir, "shard.tar");
    await writeFile(file, whole.subarray(0, sa6JsonStart + 10));
    const { good: imported, bad } = await collect(readSa1bTar(file, options));
    expect(imported).toEqual(["sa_1.json", "sa_5.json"]);
    expect(bad).toEqual([
      { file: "shard.tar", error: "truncated archive after sa_6.jpg" },
      { file: "sa_6.json", error: "missing annotation file for sa_6.jpg" },
    ]);
  });

  it("says a file that is not a tar is not one", async () => {
    const file = path.join(dir, "notes.tar");
    await writeFile(file, "this is not an archive\n".repeat(40));
    const { good: imported, bad } = await collect(readSa1bTar(file, options));
    expect(imported).toEqual([]);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.file).toBe("notes.tar");
    expect(bad[0]!.error).toMatch(/^not a tar archive/);
  });

  it("says so when an archive holds no SA-1B members", async () => {
    const file = await writeTar("other.tar", [
      { name: "notes/readme.txt", bytes: new TextEncoder().encode("hi") },
    ]);
    expect(await collect(readSa1bTar(file, options))).toEqual({
      good: [],
      bad: [{ file: "other.tar", error: "no SA-1B members (sa_*.json with images) in this archive" }],
    });
  });

  it("reads a gzipped shard", async () => {
    const { gzipSync } = await import("node:zlib");
    const file = path.join(dir, "shard.tar.gz");
    await writeFile(
      file,
      gzipSync(
        await tarBytes([
          { name: "./sa_1.jpg", bytes: image },
          { name: "./sa_1.json", bytes: jsonBytes(good(1)) },
        ]),
      ),
    );
    expect(await collect(readSa1bTar(file, options))).toEqual({ good: ["sa_1.json"], bad: [] });
  });
});

describe("readSa1bFolder", () => {
  it("finds each image by the JSON's file_name and reports bad and missing files", async () => {
    const folder = await mkdtemp(path.join(dir, "loose-"));
    const renamed = good(1);
    renamed.image.file_name = "photo_one.jpg";
    const invalidCounts = good(3);
    invalidCounts.annotations[1]!.segmentation.counts = "#";
    await writeFile(path.join(folder, "sa_1.json"), jsonBytes(renamed));
    await writeFile(path.join(folder, "photo_one.jpg"), image);
    await writeFile(path.join(folder, "sa_2.json"), jsonBytes(good(2)));
    await writeFile(path.join(folder, "sa_2.jpg"), image);
    await writeFile(path.join(folder, "sa_3.json"), jsonBytes(invalidCounts));
    await writeFile(path.join(folder, "sa_3.jpg"), image);
    await writeFile(path.join(folder, "sa_7.json"), jsonBytes(good(7)));
    await writeFile(path.join(folder, "sa_12.jpg"), image);
    await writeFile(path.join(folder, "notes.txt"), "ignored");
    const { good: imported, bad } = await collect(readSa1bFolder(folder, options));
    expect(imported).toEqual(["sa_1.json", "sa_2.json"]);
    expect(bad).toEqual([
      { file: "sa_3.json", error: expect.stringMatching(/^annotations\.1\.segmentation\.counts: /) },
      { file: "sa_7.jpg", error: "missing image" },
      { file: "sa_12.json", error: "missing annotation file for sa_12.jpg" },
    ]);
  });
  it("says so when a folder holds no SA-1B files (not searching below it)", async () => {
    const parent = await mkdtemp(path.join(dir, "parent-"));
    const inner = path.join(parent, "sa_000000");
    await mkdir(inner);
    await writeFile(path.join(inner, "sa_1.json"), jsonBytes(good(1)));
    expect(await collect(readSa1bFolder(parent, options))).toEqual({
      good: [],
      bad: [{ file: path.basename(parent), error: "no SA-1B files (sa_*.json) in this folder" }],
    });
  });
});

describe("openSa1bSource", () => {
  it("refuses a path that does not exist before reading anything", async () => {
    await expect(openSa1bSource(path.join(dir, "nope"), options)).rejects.toThrow(/does not exist/);
  });
});
