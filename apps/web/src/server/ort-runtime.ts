/**
 * onnxruntime-web's loader scripts and WASM binaries as the app serves them (no CDN), from the installed
 * package so they always match the bundled API. Their URLs carry a hash of the bytes
 * (`/ort/<file>?v=<hash>`, see the /ort/ route): a browser keeps a versioned URL for a year and never
 * runs a stale runtime after an upgrade. Next compresses the answers (gzip), as it does every response.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "@sas/config";

const distDir = path.join(repoRoot, "node_modules/onnxruntime-web/dist");

/** The files the decoder worker and ORT's thread workers load, with their content types. */
export const ORT_FILES = new Map<string, string>([
  ["ort.wasm.min.mjs", "text/javascript"],
  ["ort.webgpu.min.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.wasm", "application/wasm"],
  ["ort-wasm-simd-threaded.jsep.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.jsep.wasm", "application/wasm"],
]);

const files = new Map<string, Promise<Uint8Array>>();

/** A served file's bytes, read once per process. */
export function ortFile(file: string): Promise<Uint8Array> {
  let bytes = files.get(file);
  if (!bytes) {
    bytes = readFile(path.join(distDir, file)).then((b) => new Uint8Array(b));
    files.set(file, bytes);
    bytes.catch(() => files.delete(file));
  }
  return bytes;
}

let version: Promise<string> | null = null;

/** sha256 over every served file (names and bytes), 16 hex digits: the `v` of the runtime's URLs. */
export function ortRuntimeVersion(): Promise<string> {
  version ??= (async () => {
    const hash = createHash("sha256");
    for (const file of [...ORT_FILES.keys()].sort()) {
      hash.update(`${file}\0`);
      hash.update(await ortFile(file));
    }
    return hash.digest("hex").slice(0, 16);
  })();
  version.catch(() => {
    version = null;
  });
  return version;
}
