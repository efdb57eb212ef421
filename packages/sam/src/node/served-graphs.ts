/**
 * The decoder graphs the web app serves to browsers, named by the sha256 of their bytes: the file on disk,
 * the URL and the ETag all carry that hash, so a browser that keeps a graph for a year (immutable caching,
 * Cache Storage) can never run a stale one: changed bytes are a different name. There is no version to
 * bump by hand. The derivation runs once per process from the code that process runs (about half a
 * second), never trusting a file an older build left on disk under a hand-kept name.
 *
 * Parts listed in `preOptimize` are shipped pre-optimised: onnxruntime-node (the same release as the
 * browser's onnxruntime-web) applies its "extended" graph optimisations (constant folding, fusions) once
 * here and saves the result, and the browser loads it with optimisation off. Same operators and weights,
 * same outputs (to float rounding), but creating the session in WASM takes a fraction of the time.
 */
import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { z } from "zod";
import type { DecoderDerivation } from "../browser-model";
import { defaultCacheDir, type ModelFiles, readVerifiedModelFile } from "./model-files";

export interface ServedGraph {
  /** Where the bytes are, `<derivation>-<part>-<sha256>.onnx` in the cache folder. */
  path: string;
  /** lowercase hex sha256 of the file's bytes */
  sha256: string;
  bytes: number;
  /** Optimised here: the browser creates its session with graph optimisation off. */
  preOptimized: boolean;
}

/** The graph as onnxruntime's "extended" optimisations leave it (see the module comment). */
export async function preOptimizeGraph(model: Uint8Array): Promise<Uint8Array> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sam-preopt-"));
  try {
    const out = path.join(dir, "optimized.onnx");
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: "extended",
      optimizedModelFilePath: out,
      intraOpNumThreads: 1,
    });
    await session.release();
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The served file name of one part: what the URL ends with. */
export const servedGraphName = (derivation: Pick<DecoderDerivation, "name">, part: string, sha256: string) =>
  `${derivation.name}-${part}-${sha256}.onnx`;

/** Names every part of a derivation's output by its own bytes (pure: the naming rule, tested on its own). */
export function nameGraphs<Part extends string>(
  derivation: Pick<DecoderDerivation<Part>, "name" | "parts">,
  derived: Record<Part, Uint8Array>,
): Record<Part, { name: string; sha256: string; bytes: number }> {
  return Object.fromEntries(
    derivation.parts.map((part) => {
      const sha256 = sha256Hex(derived[part]);
      return [
        part,
        { name: servedGraphName(derivation, part, sha256), sha256, bytes: derived[part].byteLength },
      ];
    }),
  ) as Record<Part, { name: string; sha256: string; bytes: number }>;
}

const inThisProcess = new Map<string, Promise<Record<string, ServedGraph>>>();

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function deriveAndStore<Part extends string>(
  stock: Uint8Array,
  derivation: DecoderDerivation<Part>,
  cacheDir: string,
  preOptimize: readonly Part[],
): Promise<Record<Part, ServedGraph>> {
  const derived = derivation.derive(stock);
  for (const part of preOptimize) derived[part] = await preOptimizeGraph(derived[part]);
  const named = nameGraphs(derivation, derived);
  await mkdir(cacheDir, { recursive: true });
  const out = {} as Record<Part, ServedGraph>;
  for (const part of derivation.parts) {
    const { name, sha256, bytes } = named[part];
    const target = path.join(cacheDir, name);
    // A file already there (another process, an earlier run) is kept when its bytes are what its name says.
    const there = await readFile(target).catch(() => null);
    if (!there || sha256Hex(there) !== sha256) {
      const tmp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        await writeFile(tmp, derived[part]);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    }
    out[part] = { path: target, sha256, bytes, preOptimized: preOptimize.includes(part) };
  }
  return out;
}

/**
 * The parts of `derivation` for a model version's decoder, content-named (see the module comment). The
 * stock decoder is checked against its recorded sha256 on every call, so a missing or swapped file is
 * reported even after the graphs were derived.
 */
export async function servedDecoderGraphs<Part extends string>(
  files: ModelFiles,
  derivation: DecoderDerivation<Part>,
  cacheDir: string = defaultCacheDir(),
  preOptimize: readonly Part[] = [],
): Promise<Record<Part, ServedGraph>> {
  const stockSha = files.decoderSha256.toLowerCase();
  const stock = await readVerifiedModelFile(files.decoderPath, stockSha);
  const key = JSON.stringify([cacheDir, derivation.name, stockSha, preOptimize]);
  let pending = inThisProcess.get(key);
  if (!pending) {
    pending = deriveAndStore(stock, derivation, cacheDir, preOptimize);
    inThisProcess.set(key, pending);
    pending.catch(() => inThisProcess.delete(key));
  }
  const graphs = (await pending) as Record<Part, ServedGraph>;
  // A cache folder wiped under a running server: derive again rather than serve a missing file.
  if (!(await Promise.all(derivation.parts.map((p) => exists(graphs[p].path)))).every(Boolean)) {
    inThisProcess.delete(key);
    return servedDecoderGraphs(files, derivation, cacheDir, preOptimize);
  }
  return graphs;
}

/**
 * Stateless hosts: the graphs kept in blob storage instead of a host's disk.
 *
 * The first process anywhere that needs a version's graphs derives them, puts each under its content name
 * (`models/graphs/<derivation>-<part>-<sha256>.onnx`) and then a manifest naming them, keyed by everything
 * the bytes depend on: the stock decoder's sha256, the derivation's name and parts, the parts
 * pre-optimised, the onnxruntime release that optimises them, and a fingerprint of the code that derives
 * (`derivationCodeFingerprint`). Every other process, on any host, reads the manifest and serves the
 * stored objects: nothing is derived again and nothing is written to its disk. Puts are atomic and the
 * names are content hashes, so two hosts deriving at once write the same bytes under the same keys.
 */

/** The part of `@sas/storage`'s BlobStorage the stored graphs use (structural: @sas/sam has no I/O deps). */
export interface GraphBlobStore {
  get(key: string): Promise<Buffer>;
  put(key: string, data: Uint8Array): Promise<{ sizeBytes: number }>;
  stat(key: string): Promise<{ sizeBytes: number } | null>;
}

export interface StoredGraph {
  /** The storage key of the bytes: `models/graphs/<served name>`. */
  key: string;
  /** lowercase hex sha256 of the bytes (also in the key) */
  sha256: string;
  bytes: number;
  preOptimized: boolean;
}

export const GRAPHS_PREFIX = "models/graphs";

/** Where a served graph lives in storage. */
export const storedGraphKey = (name: string) => `${GRAPHS_PREFIX}/${name}`;

/** The stock decoder a derivation starts from: its sha256, and how to read its (verified) bytes if needed. */
export interface StockDecoder {
  sha256: string;
  read(): Promise<Uint8Array>;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(full)));
    else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) files.push(full);
  }
  return files.sort();
}

let codeFingerprint: Promise<string | null> | undefined;

/**
 * A fingerprint of the code that derives graphs: the sha256 of @sas/sam's sources (tests excluded) and of
 * the onnxruntime-node release, so a changed derivation (or optimiser) can never pick up graphs another
 * build stored. Null where the sources are not on disk (a bundle without them): that process then derives
 * once itself, and still serves from storage.
 */
export function derivationCodeFingerprint(): Promise<string | null> {
  codeFingerprint ??= (async () => {
    const here = fileURLToPath(import.meta.url);
    const files = await sourceFiles(path.resolve(path.dirname(here), ".."));
    if (!files.some((f) => f === here)) return null;
    const hash = createHash("sha256");
    const require = createRequire(import.meta.url);
    const ortVersion = (require("onnxruntime-node/package.json") as { version: string }).version;
    hash.update(`onnxruntime-node@${ortVersion}\0`);
    for (const file of files) {
      hash.update(path.relative(path.dirname(here), file));
      hash.update("\0");
      hash.update(await readFile(file));
      hash.update("\0");
    }
    return hash.digest("hex");
  })();
  return codeFingerprint;
}

const manifestSchema = z.object({
  derivation: z.string(),
  stockSha256: z.string(),
  parts: z.record(
    z.string(),
    z.object({
      name: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      bytes: z.number().int().min(0),
      preOptimized: z.boolean(),
    }),
  ),
});

/** The manifest's key: a hash of everything the graphs' bytes depend on. */
export function graphManifestKey(
  derivation: Pick<DecoderDerivation, "name" | "parts">,
  stockSha256: string,
  preOptimize: readonly string[],
  code: string,
): string {
  const key = sha256Hex(
    new TextEncoder().encode(
      JSON.stringify([derivation.name, derivation.parts, [...preOptimize].sort(), stockSha256, code]),
    ),
  );
  return `${GRAPHS_PREFIX}/manifests/${derivation.name}-${key}.json`;
}

async function readManifest<Part extends string>(
  blobs: GraphBlobStore,
  key: string,
  derivation: DecoderDerivation<Part>,
): Promise<Record<Part, StoredGraph> | null> {
  const raw = await blobs.get(key).catch(() => null);
  if (!raw) return null;
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(raw.toString("utf8")));
  } catch {
    return null;
  }
  const out = {} as Record<Part, StoredGraph>;
  for (const part of derivation.parts) {
    const entry = parsed.parts[part];
    if (!entry || entry.name !== servedGraphName(derivation, part, entry.sha256)) return null;
    const graphKey = storedGraphKey(entry.name);
    // Every object the manifest names must be there, whole: a manifest is only written after them.
    const stat = await blobs.stat(graphKey);
    if (stat?.sizeBytes !== entry.bytes) return null;
    out[part] = { key: graphKey, sha256: entry.sha256, bytes: entry.bytes, preOptimized: entry.preOptimized };
  }
  return out;
}

async function deriveIntoStorage<Part extends string>(
  stock: StockDecoder,
  derivation: DecoderDerivation<Part>,
  blobs: GraphBlobStore,
  preOptimize: readonly Part[],
  manifestKey: string | null,
): Promise<Record<Part, StoredGraph>> {
  const derived = derivation.derive(await stock.read());
  for (const part of preOptimize) derived[part] = await preOptimizeGraph(derived[part]);
  const named = nameGraphs(derivation, derived);
  const out = {} as Record<Part, StoredGraph>;
  for (const part of derivation.parts) {
    const { name, sha256, bytes } = named[part];
    const key = storedGraphKey(name);
    if ((await blobs.stat(key))?.sizeBytes !== bytes) await blobs.put(key, derived[part]);
    out[part] = { key, sha256, bytes, preOptimized: preOptimize.includes(part) };
  }
  if (manifestKey) {
    const manifest: z.infer<typeof manifestSchema> = {
      derivation: derivation.name,
      stockSha256: stock.sha256,
      parts: Object.fromEntries(
        derivation.parts.map((part) => [
          part,
          {
            name: named[part].name,
            sha256: out[part].sha256,
            bytes: out[part].bytes,
            preOptimized: out[part].preOptimized,
          },
        ]),
      ),
    };
    await blobs.put(manifestKey, new TextEncoder().encode(JSON.stringify(manifest)));
  }
  return out;
}

const storedInThisProcess = new WeakMap<GraphBlobStore, Map<string, Promise<Record<string, StoredGraph>>>>();

/** Counts derivations this process ran for storage (tests use it to tell "read" from "derived"). */
export const storedGraphDerivations = { count: 0 };

/**
 * The parts of `derivation` for a stock decoder, as objects in `blobs` (see the section comment): read
 * from the stored manifest when one matches, else derived here, stored, and the manifest written. Kept
 * per process after the first answer; `forgetStoredGraphs` drops that (an object found missing later).
 */
export async function storedDecoderGraphs<Part extends string>(
  stock: StockDecoder,
  derivation: DecoderDerivation<Part>,
  blobs: GraphBlobStore,
  preOptimize: readonly Part[] = [],
): Promise<Record<Part, StoredGraph>> {
  const stockSha = stock.sha256.toLowerCase();
  const code = await derivationCodeFingerprint();
  const manifestKey = code ? graphManifestKey(derivation, stockSha, preOptimize, code) : null;
  const memoKey = JSON.stringify([derivation.name, stockSha, preOptimize]);
  let memo = storedInThisProcess.get(blobs);
  if (!memo) {
    memo = new Map();
    storedInThisProcess.set(blobs, memo);
  }
  let pending = memo.get(memoKey);
  if (!pending) {
    pending = (async () => {
      const stored = manifestKey ? await readManifest(blobs, manifestKey, derivation) : null;
      if (stored) return stored;
      storedGraphDerivations.count++;
      return deriveIntoStorage({ ...stock, sha256: stockSha }, derivation, blobs, preOptimize, manifestKey);
    })();
    memo.set(memoKey, pending);
    pending.catch(() => memo.delete(memoKey));
  }
  return (await pending) as Record<Part, StoredGraph>;
}

/** Forgets what this process knows about stored graphs (an object was found missing: look again). */
export function forgetStoredGraphs(blobs: GraphBlobStore): void {
  storedInThisProcess.delete(blobs);
}
