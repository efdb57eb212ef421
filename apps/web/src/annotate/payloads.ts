/**
 * What the annotation screen sends through the outbox, built from a draft by pure functions. Each kind of
 * operation is typed by the input of the procedure that receives it (`RouterInputs`), so a change to a
 * router's input schema breaks the build here instead of failing at run time in someone's outbox. Dates
 * travel as ISO strings: the outbox is JSON in localStorage, and the procedures accept either.
 */
import type { RouterInputs } from "@sas/api";
import type { CocoRle } from "@sas/sa1b";
import { type Activity, finishActivity } from "./activity";
import { type Draft, hasPrompt } from "./draft";

/** The input of each outbox operation, by kind: exactly the procedure's input type. */
export interface OutboxInputs {
  save: RouterInputs["annotate"]["saveMask"];
  update: RouterInputs["annotate"]["updateMask"];
  delete: RouterInputs["annotate"]["deleteMask"];
  restore: RouterInputs["annotate"]["restoreMask"];
  accept: RouterInputs["annotate"]["acceptMask"];
  review: RouterInputs["review"]["decide"];
}
export type OutboxKind = keyof OutboxInputs;

type Timing = OutboxInputs["save"]["timing"];

/** The time and effort spent on a draft, ending now (accept is its last interaction). */
export function timingPayload(activity: Activity, now: number): Timing {
  const t = finishActivity(activity, now);
  return { ...t, startedAt: t.startedAt.toISOString(), finishedAt: t.finishedAt.toISOString() };
}

/** The draft's prompts as stored with the mask: clicks, the box, and brush strokes as point lists. */
export function promptsPayload(d: Draft): OutboxInputs["save"]["prompts"] {
  return [
    // clicks are foreground (1) or background (0); box corners are not points here
    ...d.points.map((p) => ({
      type: "point" as const,
      x: p.x,
      y: p.y,
      label: p.label === 0 ? (0 as const) : (1 as const),
    })),
    ...(d.box ? [{ type: "box" as const, ...d.box }] : []),
    ...d.strokes.map((s) => ({
      type: "brush" as const,
      mode: s.mode,
      radius: s.radius,
      points: Array.from({ length: s.points.length / 2 }, (_, i): [number, number] => [
        s.points[2 * i]!,
        s.points[2 * i + 1]!,
      ]),
    })),
  ];
}

/** A new mask from the draft (the client picks the id, so a retried save cannot make two). */
export function newMaskPayload(
  d: Draft,
  mask: { id: string; imageId: string; rle: CocoRle; stabilityScore: number | null },
  now: number,
): OutboxInputs["save"] {
  return {
    id: mask.id,
    imageId: mask.imageId,
    rle: mask.rle,
    // The decoder's own estimate, in [0, 1]; a brush-only mask has none.
    predictedIou: hasPrompt(d) && d.decoded ? clampUnit(d.decoded.iou[d.candidate] ?? 0) : null,
    stabilityScore: mask.stabilityScore,
    pointCoords: d.points.map((p): [number, number] => [p.x, p.y]),
    prompts: promptsPayload(d),
    label: d.label.trim(),
    timing: timingPayload(d.activity, now),
  };
}

/**
 * An annotator's fix of an automatic proposal: new pixels with the time spent, then accepted (two
 * operations, the second at the version the first makes).
 */
export function fixPayloads(
  d: Draft,
  maskId: string,
  version: number,
  rle: CocoRle,
  now: number,
): { update: OutboxInputs["update"]; accept: OutboxInputs["accept"] } {
  const label = d.label.trim();
  return {
    update: { id: maskId, version, rle, ...(label ? { label } : {}), timing: timingPayload(d.activity, now) },
    accept: { id: maskId, version: version + 1 },
  };
}

/** A reviewer's corrected pixels for a mask version: saved as a review, the original kept. */
export function correctionPayload(maskId: string, version: number, rle: CocoRle): OutboxInputs["review"] {
  return { maskId, version, decision: "corrected", rle };
}

/**
 * SAM's IoU head is a regression output, not a probability: it can leave [0, 1] by a little ("1.01").
 * What is shown and stored is the estimate clamped to the range an IoU has.
 */
export function clampUnit(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

/** A predicted IoU for people: two decimals, never above 1.00. */
export function formatIou(v: number | undefined): string {
  return v === undefined ? "–" : clampUnit(v).toFixed(2);
}
