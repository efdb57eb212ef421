import { describe, expect, it } from "vitest";
import { emptyActivity, finishActivity, IDLE_GAP_MS, recordActivity } from "./activity";

describe("activity timing", () => {
  it("starts at the first interaction and counts each kind", () => {
    let a = recordActivity(emptyActivity(), "clicks", 1_000);
    a = recordActivity(a, "clicks", 1_500);
    a = recordActivity(a, "boxes", 2_000);
    a = recordActivity(a, "brushStrokes", 2_200);
    a = recordActivity(a, "undos", 2_300);
    expect(a).toMatchObject({
      startedAt: 1_000,
      clicks: 2,
      boxes: 1,
      brushStrokes: 1,
      undos: 1,
      activeMs: 1_300,
    });
  });

  it("leaves idle gaps over 30 s out of active time, but not shorter pauses", () => {
    let a = recordActivity(emptyActivity(), "clicks", 0);
    a = recordActivity(a, "clicks", IDLE_GAP_MS); // exactly 30 s: still active
    a = recordActivity(a, "clicks", IDLE_GAP_MS + IDLE_GAP_MS + 1); // away for longer: idle
    a = recordActivity(a, "clicks", 2 * IDLE_GAP_MS + 1 + 2_000);
    expect(a.activeMs).toBe(IDLE_GAP_MS + 2_000);
    const t = finishActivity(a, 2 * IDLE_GAP_MS + 1 + 3_000);
    expect(t.activeMs).toBe(IDLE_GAP_MS + 3_000);
    expect(t.startedAt.getTime()).toBe(0);
    expect(t.finishedAt.getTime() - t.startedAt.getTime()).toBeGreaterThan(t.activeMs);
    expect(t.clicks).toBe(4);
  });
});
