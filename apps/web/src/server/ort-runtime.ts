/**
 * onnxruntime-web's loader scripts and WASM binaries as the app serves them (no CDN), from the installed
 * package so they always match the bundled API. Their URLs carry a hash of the bytes
 * (`/ort/<file>?v=<hash>`, see the /ort/ route): a browser keeps a versioned URL for a year and never
 * runs a stale runtime after an upgrade. Each file is gzipped once per process (`ortFileGzip`) and sent
 * already encoded: left to Next, the 14 MB WASM binary was compressed again for every browser that
 * fetched it (over a second of server CPU each time, on the way to a cold page's first mask).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
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

const gzipped = new Map<string, Promise<Uint8Array>>();
const gzipAsync = promisify(gzip);

/** A served file gzipped (level 9: once per process, in libuv's thread pool, off the event loop). */
export function ortFileGzip(file: string): Promise<Uint8Array> {
  let bytes = gzipped.get(file);
  if (!bytes) {
    bytes = ortFile(file)
      .then((raw) => gzipAsync(raw, { level: 9 }))
      .then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    gzipped.set(file, bytes);
    bytes.catch(() => gzipped.delete(file));
  }
  return bytes;
}

/** Whether an Accept-Encoding header admits gzip (a `q=0` refuses it). */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding?.trim() !== "gzip" && coding?.trim() !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
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
