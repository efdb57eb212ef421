/**
 * The browser's decoder graphs are served under names that carry their bytes' sha256 (file, URL, ETag), so
 * a browser caching them for a year can never run stale bytes under an old name. These tests fail if a
 * graph's bytes change while its name does not.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_DECODER_DERIVATION, BROWSER_DECODER_PARTS } from "../browser-model";
import { defaultModelFiles, readVerifiedModelFile } from "./model-files";
import { nameGraphs, servedDecoderGraphs, servedGraphName, sha256Hex } from "./served-graphs";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sam-served-graphs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("served decoder graphs", () => {
  it("name each part by the sha256 of its bytes: different bytes, different name", () => {
    const derivation = { name: "decoder-test", parts: ["a", "b"] as const };
    const one = nameGraphs(derivation, { a: new Uint8Array([1, 2, 3]), b: new Uint8Array([4]) });
    const changed = nameGraphs(derivation, { a: new Uint8Array([1, 2, 4]), b: new Uint8Array([4]) });
    expect(one.a.name).toBe(`decoder-test-a-${sha256Hex(new Uint8Array([1, 2, 3]))}.onnx`);
    expect(one.a.bytes).toBe(3);
    expect(changed.a.name).not.toBe(one.a.name);
    expect(changed.b.name).toBe(one.b.name);
  });

  it("serve exactly what the derivation makes today, under its hash", async () => {
    const files = defaultModelFiles();
    const graphs = await servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, dir);
    const derivedNow = BROWSER_DECODER_DERIVATION.derive(
      await readVerifiedModelFile(files.decoderPath, files.decoderSha256),
    );
    for (const part of BROWSER_DECODER_PARTS) {
      const onDisk = new Uint8Array(await readFile(graphs[part].path));
      // the bytes a browser gets are the derivation's output, and the name is their hash
      expect(sha256Hex(onDisk)).toBe(sha256Hex(derivedNow[part]));
      expect(graphs[part].sha256).toBe(sha256Hex(onDisk));
      expect(graphs[part].bytes).toBe(onDisk.byteLength);
      expect(path.basename(graphs[part].path)).toBe(
        servedGraphName(BROWSER_DECODER_DERIVATION, part, sha256Hex(onDisk)),
      );
    }
    // the three parts are different graphs, so three different names
    expect(new Set(BROWSER_DECODER_PARTS.map((p) => graphs[p].sha256)).size).toBe(3);
  }, 60_000);

  it("never serve a file whose bytes are not what its name says", async () => {
    const files = defaultModelFiles();
    const first = await servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, dir);
    const otherDir = path.join(dir, "other");
    // an earlier run left different bytes under today's name (a corrupted or hand-copied file)
    await mkdir(otherDir, { recursive: true });
    const target = path.join(otherDir, path.basename(first.click.path));
    await writeFile(target, "stale bytes");
    const again = await servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, otherDir);
    expect(again.click.path).toBe(target);
    expect(sha256Hex(new Uint8Array(await readFile(target)))).toBe(first.click.sha256);
  }, 60_000);

  it("report a missing stock decoder even after the graphs were derived", async () => {
    const files = { ...defaultModelFiles(), decoderPath: path.join(dir, "gone.onnx") };
    await expect(servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, dir)).rejects.toMatchObject({
      kind: "missing",
    });
  });
});
