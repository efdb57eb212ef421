import { readFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { repoRoot } from "@sas/config";
import { describe, expect, it } from "vitest";
import { GET } from "../app/ort/[file]/route";
import { acceptsGzip, ortRuntimeVersion } from "./ort-runtime";

const get = (file: string, query = "", headers: Record<string, string> = {}) =>
  GET(new Request(`http://localhost/ort/${file}${query}`, { headers }), {
    params: Promise.resolve({ file }),
  });

describe("the /ort/ route", () => {
  it("serves the runtime immutable under its content hash, revalidated without it", async () => {
    const v = await ortRuntimeVersion();
    expect(v).toMatch(/^[0-9a-f]{16}$/);
    const file = "ort-wasm-simd-threaded.mjs";
    const original = await readFile(path.join(repoRoot, "node_modules/onnxruntime-web/dist", file));

    const current = await get(file, `?v=${v}`);
    expect(current.status).toBe(200);
    expect(current.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(current.headers.get("content-type")).toBe("text/javascript");
    expect(Buffer.from(await current.arrayBuffer()).equals(original)).toBe(true);

    // An older hash (a page from before an upgrade) or none: today's bytes, to be revalidated.
    for (const query of ["", "?v=0000000000000000"]) {
      const stale = await get(file, query);
      expect(stale.headers.get("cache-control")).toBe("public, no-cache");
      expect(Buffer.from(await stale.arrayBuffer()).equals(original)).toBe(true);
      const etag = stale.headers.get("etag") ?? "";
      expect((await get(file, query, { "if-none-match": etag })).status).toBe(304);
    }
    expect((await get("ort.all.min.mjs")).status).toBe(404);
  });

  it("sends the runtime gzipped, compressed once, to clients that accept gzip", async () => {
    const v = await ortRuntimeVersion();
    const file = "ort-wasm-simd-threaded.wasm";
    const original = await readFile(path.join(repoRoot, "node_modules/onnxruntime-web/dist", file));
    const zipped = await get(file, `?v=${v}`, { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toBe("Accept-Encoding");
    const body = Buffer.from(await zipped.arrayBuffer());
    expect(Number(zipped.headers.get("content-length"))).toBe(body.byteLength);
    expect(body.byteLength).toBeLessThan(original.byteLength / 2);
    expect(gunzipSync(body).equals(original)).toBe(true);
    // the same compressed bytes again (not compressed per request)
    const again = await get(file, `?v=${v}`, { "accept-encoding": "gzip" });
    expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true);
    const etag = again.headers.get("etag") ?? "";
    expect(etag).not.toBe(`"${v}"`);
    expect((await get(file, `?v=${v}`, { "accept-encoding": "gzip", "if-none-match": etag })).status).toBe(
      304,
    );
    // no gzip asked for (or refused): the bytes as they are
    for (const accept of [undefined, "identity", "gzip;q=0, br"]) {
      const plain = await get(file, `?v=${v}`, accept ? { "accept-encoding": accept } : {});
      expect(plain.headers.get("content-encoding")).toBeNull();
      expect(Buffer.from(await plain.arrayBuffer()).equals(original)).toBe(true);
    }
  }, 60_000);

  it("reads Accept-Encoding as RFC 9110 says", () => {
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("deflate, GZIP;q=0.5")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("br, deflate")).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });
});
