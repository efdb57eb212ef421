/**
 * What the annotation page says while it opens: the files the decoder worker is fetching (or reading from
 * the browser's cache), summed into one bar with megabytes, and one line per file.
 */
import type { LoadItem } from "./decoder/protocol";

export interface LoadingSummary {
  /** 0..1 over the bytes known so far; null while no size is known. */
  fraction: number | null;
  loadedBytes: number;
  totalBytes: number;
  /** The first file still loading, for the headline ("Loading click decoder…"). */
  current: LoadItem | null;
  done: boolean;
}

export function summarizeLoading(items: readonly LoadItem[]): LoadingSummary {
  let loadedBytes = 0;
  let totalBytes = 0;
  for (const item of items) {
    const total = item.done ? item.loadedBytes : Math.max(item.totalBytes, item.loadedBytes);
    totalBytes += total;
    loadedBytes += Math.min(item.loadedBytes, total);
  }
  return {
    fraction: totalBytes > 0 ? loadedBytes / totalBytes : null,
    loadedBytes,
    totalBytes,
    current: items.find((i) => !i.done) ?? null,
    done: items.length > 0 && items.every((i) => i.done),
  };
}

/** Bytes as megabytes for people: "0.7 MB", "16.3 MB" (10^6, as download sizes are shown). */
export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** One file's line: "click decoder 8.1 / 16.3 MB", or "… 16.3 MB (cached)" when done. */
export function describeItem(item: LoadItem): string {
  if (item.done) return `${item.label} ${formatMB(item.loadedBytes)}${item.cached ? " (cached)" : ""}`;
  const total = item.totalBytes > 0 ? ` / ${formatMB(item.totalBytes)}` : "";
  return `${item.label} ${(item.loadedBytes / 1e6).toFixed(1)}${total || " MB"}`;
}
