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
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
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
