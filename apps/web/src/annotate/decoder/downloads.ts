/**
 * How the decoder worker gets its files: streamed with progress, and the decoder graphs kept in the
 * browser's Cache Storage under their content-named URLs (the name is the bytes' sha256, checked on the
 * way in), so a later visit reads them locally, even where the HTTP cache has dropped 16 MB responses.
 */
import type { GraphFile } from "./protocol";

/** Cache Storage bucket of the decoder graphs (entries keyed by their content-named URLs). */
export const GRAPH_CACHE = "sas-decoder-graphs";

export type OnBytes = (loaded: number, total: number) => void;

/** Reads a response body to the end, reporting bytes as they arrive. */
export async function readWithProgress(response: Response, onBytes: OnBytes): Promise<Uint8Array> {
  const total = Number(response.headers.get("content-length") ?? 0);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes(bytes.byteLength, bytes.byteLength);
    return bytes;
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(total || 1 << 20);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.max(buffer.byteLength * 2, loaded + value.byteLength));
      grown.set(buffer.subarray(0, loaded));
      buffer = grown;
    }
    buffer.set(value, loaded);
    loaded += value.byteLength;
    onBytes(loaded, Math.max(total, loaded));
  }
  onBytes(loaded, loaded);
  return loaded === buffer.byteLength ? buffer : buffer.slice(0, loaded);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === "undefined" ? null : await caches.open(GRAPH_CACHE);
  } catch {
    return null; // storage blocked (some private modes): the network and the HTTP cache still work
  }
}

/**
 * One decoder graph: from Cache Storage when it holds this hash, else downloaded, checked against its
 * sha256 and stored. `fromCache` tells the progress bar which it was.
 */
export async function graphBytes(
  graph: GraphFile,
  onBytes: OnBytes,
): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
  const cache = await openCache();
  const hit = await cache?.match(graph.url).catch(() => undefined);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if (bytes.byteLength === graph.bytes) {
      onBytes(bytes.byteLength, bytes.byteLength);
      return { bytes, fromCache: true };
    }
  }
  const response = await fetch(graph.url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`decoder graph ${graph.part}: HTTP ${response.status}`);
  const bytes = await readWithProgress(response, (loaded) => onBytes(loaded, graph.bytes));
  const actual = await sha256Hex(bytes);
  if (actual !== graph.sha256)
    throw new Error(`decoder graph ${graph.part}: got sha256 ${actual}, the server listed ${graph.sha256}`);
  // Stored in the background: the session does not wait for the write.
  void cache
    ?.put(
      graph.url,
      new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "Content-Type": "application/octet-stream" },
      }),
    )
    .catch(() => {});
  return { bytes, fromCache: false };
}

/** Drops cached graphs of this model version that its list no longer names (older derivations). */
export async function forgetOtherGraphs(graphs: readonly GraphFile[], origin: string): Promise<void> {
  const cache = await openCache();
  if (!cache || graphs.length === 0) return;
  const keep = new Set(graphs.map((g) => new URL(g.url, origin).href));
  const prefix = new URL(graphs[0]!.url.replace(/[^/]+$/, ""), origin).href;
  for (const request of await cache.keys())
    if (request.url.startsWith(prefix) && !keep.has(request.url)) await cache.delete(request);
}
