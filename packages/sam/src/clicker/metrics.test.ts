import { describe, expect, it } from "vitest";
import { clicksToReach, iouAfter, summarizeSessions } from "./metrics";

describe("clicksToReach", () => {
  it("counts clicks to the first IoU at or above the threshold", () => {
    const ious = [0.5, 0.84, 0.85, 0.8, 0.95];
    expect(clicksToReach(ious, 0.85)).toBe(3);
    expect(clicksToReach(ious, 0.9)).toBe(5);
    expect(clicksToReach([0.9], 0.9)).toBe(1);
  });

  it("scores the click budget when the threshold is never reached", () => {
    expect(clicksToReach([0.1, 0.2, 0.3], 0.85)).toBe(20);
    expect(clicksToReach([0.1, 0.2, 0.3], 0.85, 5)).toBe(5);
    expect(clicksToReach([], 0.85)).toBe(20);
  });

  it("does not count IoUs past the budget", () => {
    expect(clicksToReach([0.1, 0.2, 0.9], 0.85, 2)).toBe(2);
  });
});

describe("iouAfter", () => {
  it("carries the last IoU forward for sessions that stopped early", () => {
    expect(iouAfter([0.4, 0.7], 1)).toBe(0.4);
    expect(iouAfter([0.4, 0.7], 2)).toBe(0.7);
    expect(iouAfter([0.4, 0.7], 10)).toBe(0.7);
    expect(iouAfter([], 3)).toBe(0);
  });
});

describe("summarizeSessions", () => {
  it("averages NoC and mIoU over images and counts failures", () => {
    const summary = summarizeSessions(
      [
        [0.9, 0.95, 0.97],
        [0.5, 0.86, 0.88],
        [0.2, 0.3, 0.4],
      ],
      { maxClicks: 3 },
    );
    expect(summary.images).toBe(3);
    expect(summary.noc[85]).toBeCloseTo((1 + 2 + 3) / 3, 12);
    expect(summary.noc[90]).toBeCloseTo((1 + 3 + 3) / 3, 12);
    expect(summary.failed).toEqual({ 85: 1, 90: 2 });
    expect(summary.miou[1]).toBeCloseTo((0.9 + 0.5 + 0.2) / 3, 12);
    expect(summary.miou[3]).toBeCloseTo((0.97 + 0.88 + 0.4) / 3, 12);
    expect(Object.keys(summary.miou)).toEqual(["1", "2", "3"]);
  });
});
