/**
 * The browser's decoder graphs are served under names that carry their bytes' sha256 (file, URL, ETag), so
 * a browser caching them for a year can never run stale bytes under an old name. These tests fail if a
 * graph's bytes change while its name does not.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_DECODER_INPUTS, BROWSER_DECODER_OUTPUTS, browserDecoderFeeds } from "../browser-decoder";
import { BROWSER_DECODER_DERIVATION, BROWSER_DECODER_PARTS } from "../browser-model";
import { defaultModelFiles, readVerifiedModelFile } from "./model-files";
import {
  nameGraphs,
  preOptimizeGraph,
  servedDecoderGraphs,
  servedGraphName,
  sha256Hex,
} from "./served-graphs";

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

describe("pre-optimised graphs", () => {
  it("are named by their own bytes, the same bytes on every run, and decode as the derived graph does", async () => {
    const files = defaultModelFiles();
    const raw = await servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, dir);
    const shipped = await servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, dir, ["click", "prepare"]);
    expect(shipped.click.preOptimized).toBe(true);
    expect(shipped.prepare.preOptimized).toBe(true);
    expect(shipped.refine.preOptimized).toBe(false);
    const bytes = new Uint8Array(await readFile(shipped.click.path));
    expect(shipped.click.sha256).toBe(sha256Hex(bytes));
    expect(shipped.click.sha256).not.toBe(raw.click.sha256);
    // deterministic: a server restart does not rename it (browsers keep their cached copy)
    expect(sha256Hex(await preOptimizeGraph(new Uint8Array(await readFile(raw.click.path))))).toBe(
      shipped.click.sha256,
    );

    const embedding = new Float32Array(256 * 64 * 64).map((_, i) => Math.sin(i * 0.37) * 0.5);
    const prepare = await ort.InferenceSession.create(raw.prepare.path);
    const prepared = await prepare.run({
      [BROWSER_DECODER_INPUTS.imageEmbeddings]: new ort.Tensor("float32", embedding, [1, 256, 64, 64]),
    });
    const { feeds } = browserDecoderFeeds({ points: [{ x: 300, y: 200, label: 1 }] }, 800, 600);
    const inputs: Record<string, ort.Tensor> = { ...prepared };
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor("float32", f.data, f.dims);
    const lowRes = async (p: string, level: "all" | "disabled") => {
      const session = await ort.InferenceSession.create(p, { graphOptimizationLevel: level });
      const out = await session.run(inputs);
      await session.release();
      return out[BROWSER_DECODER_OUTPUTS.lowResMasks]!.data as Float32Array;
    };
    // The pre-optimised prepare graph prepares the embedding as the derived one does.
    const shippedPrepare = await ort.InferenceSession.create(shipped.prepare.path, {
      graphOptimizationLevel: "disabled",
    });
    const preparedAgain = await shippedPrepare.run({
      [BROWSER_DECODER_INPUTS.imageEmbeddings]: new ort.Tensor("float32", embedding, [1, 256, 64, 64]),
    });
    await shippedPrepare.release();
    for (const [name, tensor] of Object.entries(prepared)) {
      const a = tensor.data as Float32Array;
      const b = preparedAgain[name]!.data as Float32Array;
      let worstPrepared = 0;
      for (let i = 0; i < a.length; i++) worstPrepared = Math.max(worstPrepared, Math.abs(a[i]! - b[i]!));
      expect(worstPrepared, name).toBeLessThan(1e-4);
    }
    const expected = await lowRes(raw.click.path, "all");
    const got = await lowRes(shipped.click.path, "disabled");
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - got[i]!));
    expect(worst).toBeLessThan(1e-3);
    await prepare.release();
  }, 120_000);
});
