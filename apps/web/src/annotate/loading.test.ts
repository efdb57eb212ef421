import { describe, expect, it } from "vitest";
import type { LoadItem } from "./decoder/protocol";
import { describeItem, formatMB, summarizeLoading } from "./loading";

const item = (over: Partial<LoadItem>): LoadItem => ({
  id: "x",
  label: "click decoder",
  loadedBytes: 0,
  totalBytes: 0,
  done: false,
  cached: false,
  ...over,
});

describe("opening progress", () => {
  it("sums the bytes of every file into one bar and names the first still loading", () => {
    const s = summarizeLoading([
      item({ id: "runtime", label: "decoder runtime", loadedBytes: 14e6, totalBytes: 14e6, done: true }),
      item({ id: "click", loadedBytes: 4e6, totalBytes: 16e6 }),
      item({ id: "embedding", label: "image embedding", loadedBytes: 0, totalBytes: 2e6 }),
    ]);
    expect(s.loadedBytes).toBe(18e6);
    expect(s.totalBytes).toBe(32e6);
    expect(s.fraction).toBeCloseTo(18 / 32);
    expect(s.current?.id).toBe("click");
    expect(s.done).toBe(false);
  });

  it("has no fraction before any size is known, and is done when every file is", () => {
    expect(summarizeLoading([item({})]).fraction).toBeNull();
    expect(summarizeLoading([]).done).toBe(false);
    const done = summarizeLoading([item({ loadedBytes: 5, totalBytes: 5, done: true })]);
    expect(done).toMatchObject({ fraction: 1, done: true, current: null });
  });

  it("never goes past 100% when a file is larger than announced", () => {
    const s = summarizeLoading([item({ loadedBytes: 12, totalBytes: 10 })]);
    expect(s.fraction).toBe(1);
  });

  it("speaks in megabytes", () => {
    expect(formatMB(16_303_984)).toBe("16.3 MB");
    expect(describeItem(item({ loadedBytes: 8.1e6, totalBytes: 16.3e6 }))).toBe(
      "click decoder 8.1 / 16.3 MB",
    );
    expect(describeItem(item({ loadedBytes: 16.3e6, totalBytes: 16.3e6, done: true, cached: true }))).toBe(
      "click decoder 16.3 MB (cached)",
    );
    expect(describeItem(item({ loadedBytes: 1e6 }))).toBe("click decoder 1.0 MB");
  });
});
