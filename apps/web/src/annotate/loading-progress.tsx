"use client";

import type { LoadItem } from "./decoder/protocol";
import { describeItem, formatMB, summarizeLoading } from "./loading";

/**
 * The annotation page opening: one bar over everything the decoder needs (runtime, decoder graphs, the
 * image's embedding) with megabytes, and a line per file saying what it is and whether it came from the
 * browser's cache.
 */
export function LoadingProgress({ items, what }: { items: readonly LoadItem[]; what: string }) {
  const s = summarizeLoading(items);
  return (
    <section className="loading-progress" aria-label="Loading" data-testid="loading-progress">
      <p>
        <strong>{s.current ? `Loading ${s.current.label}…` : what}</strong>{" "}
        {s.totalBytes > 0 ? (
          <span className="muted" data-testid="loading-mb">
            {formatMB(s.loadedBytes)} of {formatMB(s.totalBytes)}
          </span>
        ) : null}
      </p>
      <progress
        max={1}
        {...(s.fraction === null ? {} : { value: s.fraction })}
        aria-label="Loading the model and the image"
      />
      <ul className="muted">
        {items.map((item) => (
          <li key={item.id} data-done={item.done ? "yes" : "no"}>
            {item.done ? "✓ " : ""}
            {describeItem(item)}
          </li>
        ))}
      </ul>
    </section>
  );
}
