import { readFile } from "node:fs/promises";
import path from "node:path";
import { jsonError } from "@sas/api/http";
import { repoRoot } from "@sas/config";

/**
 * onnxruntime-web's loader scripts and WASM binaries, served by the app itself (no CDN), from the
 * installed package so they always match the bundled API. Immutable: the version is in the lockfile.
 */
const SERVED = new Map<string, string>([
  ["ort.wasm.min.mjs", "text/javascript"],
  ["ort.webgpu.min.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.wasm", "application/wasm"],
  ["ort-wasm-simd-threaded.jsep.mjs", "text/javascript"],
  ["ort-wasm-simd-threaded.jsep.wasm", "application/wasm"],
]);

const distDir = path.join(repoRoot, "node_modules/onnxruntime-web/dist");

export async function GET(_req: Request, context: { params: Promise<{ file: string }> }) {
  const { file } = await context.params;
  const type = SERVED.get(file);
  if (!type) return jsonError(404, "not found");
  const bytes = await readFile(path.join(distDir, file));
  return new Response(new Uint8Array(bytes), {
    headers: {
      "Content-Type": type,
      "Cache-Control": "public, max-age=31536000, immutable",
      "Cross-Origin-Resource-Policy": "same-origin",
    },
  });
}
