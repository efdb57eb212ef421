import { jsonError } from "@sas/api/http";
import { ORT_FILES, ortFile, ortRuntimeVersion } from "../../../server/ort-runtime";

/**
 * onnxruntime-web's loader scripts and WASM binaries (see server/ort-runtime.ts). With this runtime's
 * `?v=<hash>` the answer is immutable for a year (the same URL is always the same bytes, which also lets
 * the browser keep the compiled WebAssembly with it); without it, or with an older hash, it must be
 * revalidated (ETag: the hash).
 */
export async function GET(req: Request, context: { params: Promise<{ file: string }> }) {
  const { file } = await context.params;
  const type = ORT_FILES.get(file);
  if (!type) return jsonError(404, "not found");
  const version = await ortRuntimeVersion();
  const current = new URL(req.url).searchParams.get("v") === version;
  const headers = {
    "Content-Type": type,
    ETag: `"${version}"`,
    "Cache-Control": current ? "public, max-age=31536000, immutable" : "public, no-cache",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
  if (req.headers.get("if-none-match") === headers.ETag) return new Response(null, { status: 304, headers });
  return new Response((await ortFile(file)) as Uint8Array<ArrayBuffer>, { headers });
}
