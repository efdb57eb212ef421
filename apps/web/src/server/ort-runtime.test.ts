import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "@sas/config";
import { describe, expect, it } from "vitest";
import { GET } from "../app/ort/[file]/route";
import { ortRuntimeVersion } from "./ort-runtime";

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
});
