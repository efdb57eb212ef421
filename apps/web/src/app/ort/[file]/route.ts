import { jsonError } from "@sas/api/http";
import { acceptsGzip, ORT_FILES, ortFile, ortFileGzip, ortRuntimeVersion } from "../../../server/ort-runtime";

/**
 * onnxruntime-web's loader scripts and WASM binaries (see server/ort-runtime.ts). With this runtime's
 * `?v=<hash>` the answer is immutable for a year (the same URL is always the same bytes, which also lets
 * the browser keep the compiled WebAssembly with it); without it, or with an older hash, it must be
 * revalidated (ETag: the hash). Sent gzipped, from bytes compressed once per process, to clients that
 * accept it; Next leaves a response that already has a Content-Encoding alone.
 */
export async function GET(req: Request, context: { params: Promise<{ file: string }> }) {
  const { file } = await context.params;
  const type = ORT_FILES.get(file);
  if (!type) return jsonError(404, "not found");
  const version = await ortRuntimeVersion();
  const current = new URL(req.url).searchParams.get("v") === version;
  const gzipped = acceptsGzip(req.headers.get("accept-encoding"));
  const headers: Record<string, string> = {
    "Content-Type": type,
    // Each encoding is its own representation, with its own validator (RFC 9110, 8.8.3).
    ETag: gzipped ? `"${version}-gzip"` : `"${version}"`,
    "Cache-Control": current ? "public, max-age=31536000, immutable" : "public, no-cache",
    "Cross-Origin-Resource-Policy": "same-origin",
    Vary: "Accept-Encoding",
  };
  if (req.headers.get("if-none-match") === headers.ETag) return new Response(null, { status: 304, headers });
  if (!gzipped) return new Response((await ortFile(file)) as Uint8Array<ArrayBuffer>, { headers });
  const body = await ortFileGzip(file);
  headers["Content-Encoding"] = "gzip";
  headers["Content-Length"] = String(body.byteLength);
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}
