import { describe, expect, it } from "vitest";
import { emptyActivity, recordActivity } from "./activity";
import { type Draft, emptyDraft } from "./draft";
import {
  clampUnit,
  correctionPayload,
  fixPayloads,
  formatIou,
  newMaskPayload,
  promptsPayload,
  timingPayload,
} from "./payloads";

const rle = { size: [4, 4] as [number, number], counts: "04" };
const t0 = Date.parse("2026-12-01T10:00:00Z");

function drawn(over: Partial<Draft> = {}): Draft {
  let activity = recordActivity(emptyActivity(), "clicks", t0);
  activity = recordActivity(activity, "brushStrokes", t0 + 2_000);
  return {
    ...emptyDraft(),
    points: [
      { x: 10, y: 20, label: 1 },
      { x: 30, y: 40, label: 0 },
    ],
    box: { x0: 1, y0: 2, x1: 3, y1: 4 },
    strokes: [{ mode: "erase", radius: 5, points: [1, 2, 3, 4] }],
    decoded: { lowRes: new Float32Array(4 * 65536), iou: [0.5, 1.013, 0.8, 0.7], decoderPoints: 4 },
    candidate: 1,
    label: "  dog ",
    activity,
    ...over,
  };
}

describe("outbox payloads", () => {
  it("a new mask carries its prompts, clamped IoU, trimmed label and timing as ISO strings", () => {
    const input = newMaskPayload(drawn(), { id: "m1", imageId: "i1", rle, stabilityScore: 0.97 }, t0 + 5_000);
    expect(input).toEqual({
      id: "m1",
      imageId: "i1",
      rle,
      predictedIou: 1,
      stabilityScore: 0.97,
      pointCoords: [
        [10, 20],
        [30, 40],
      ],
      prompts: [
        { type: "point", x: 10, y: 20, label: 1 },
        { type: "point", x: 30, y: 40, label: 0 },
        { type: "box", x0: 1, y0: 2, x1: 3, y1: 4 },
        {
          type: "brush",
          mode: "erase",
          radius: 5,
          points: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      label: "dog",
      timing: {
        startedAt: "2026-12-01T10:00:00.000Z",
        finishedAt: "2026-12-01T10:00:05.000Z",
        activeMs: 5_000,
        clicks: 1,
        boxes: 0,
        brushStrokes: 1,
        undos: 0,
      },
    });
  });

  it("a brush-only mask has no predicted IoU", () => {
    const d = drawn({ points: [], box: null });
    expect(
      newMaskPayload(d, { id: "m", imageId: "i", rle, stabilityScore: null }, t0).predictedIou,
    ).toBeNull();
    expect(promptsPayload(d)).toHaveLength(1);
  });

  it("a fix is an update at the known version, then an accept at the next", () => {
    const { update, accept } = fixPayloads(drawn(), "m7", 3, rle, t0 + 1_000);
    expect(update).toMatchObject({ id: "m7", version: 3, rle, label: "dog" });
    expect(update.timing?.finishedAt).toBe("2026-12-01T10:00:01.000Z");
    expect(accept).toEqual({ id: "m7", version: 4 });
    expect(fixPayloads(drawn({ label: " " }), "m7", 3, rle, t0).update).not.toHaveProperty("label");
  });

  it("a reviewer's correction is a review of that version", () => {
    expect(correctionPayload("m2", 5, rle)).toEqual({ maskId: "m2", version: 5, decision: "corrected", rle });
  });

  it("timing never starts after it ends", () => {
    const t = timingPayload(emptyActivity(), t0);
    expect(t.startedAt).toBe(t.finishedAt);
  });
});

describe("predicted IoU for people", () => {
  it("is clamped to [0, 1] and shown with two decimals", () => {
    expect(formatIou(1.0132)).toBe("1.00");
    expect(formatIou(0.876)).toBe("0.88");
    expect(formatIou(-0.02)).toBe("0.00");
    expect(formatIou(undefined)).toBe("–");
    expect(clampUnit(Number.NaN)).toBe(0);
  });
});
