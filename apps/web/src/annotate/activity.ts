/** Gaps between two interactions longer than this count as idle and are left out of active time. */
export const IDLE_GAP_MS = 30_000;

/** What an annotator did while making one mask: the numbers MaskTiming stores. */
export interface ActivityCounts {
  clicks: number;
  boxes: number;
  brushStrokes: number;
  undos: number;
}

export interface Activity extends ActivityCounts {
  /** Epoch ms of the first prompt or stroke; null until the mask is started. */
  startedAt: number | null;
  /** Epoch ms of the latest interaction. */
  lastAt: number | null;
  activeMs: number;
}

export type ActivityKind = keyof ActivityCounts | "other";

export const emptyActivity = (): Activity => ({
  startedAt: null,
  lastAt: null,
  activeMs: 0,
  clicks: 0,
  boxes: 0,
  brushStrokes: 0,
  undos: 0,
});

/**
 * Records one interaction at `now`. The time since the previous interaction counts as active unless it
 * is an idle gap (over IDLE_GAP_MS: the annotator was away), which is left out entirely.
 */
export function recordActivity(activity: Activity, kind: ActivityKind, now: number): Activity {
  const gap = activity.lastAt === null ? 0 : Math.max(0, now - activity.lastAt);
  const next: Activity = {
    ...activity,
    startedAt: activity.startedAt ?? now,
    lastAt: now,
    activeMs: activity.activeMs + (gap <= IDLE_GAP_MS ? gap : 0),
  };
  if (kind !== "other") next[kind] = activity[kind] + 1;
  return next;
}

/** The timing saved with an accepted mask; accept itself is the last interaction. */
export function finishActivity(activity: Activity, now: number) {
  const done = recordActivity(activity, "other", now);
  return {
    startedAt: new Date(done.startedAt ?? now),
    finishedAt: new Date(now),
    activeMs: Math.round(done.activeMs),
    clicks: done.clicks,
    boxes: done.boxes,
    brushStrokes: done.brushStrokes,
    undos: done.undos,
  };
}
