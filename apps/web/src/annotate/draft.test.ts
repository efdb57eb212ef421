import { describe, expect, it } from "vitest";
import {
  CANDIDATES,
  chosenLogits,
  decodedFor,
  draftPrompt,
  emptyDraft,
  emptyHistory,
  LOW_RES_AREA,
  likelyLabel,
  offersChoices,
  parseDraft,
  popRedo,
  popUndo,
  pushHistory,
  serializeDraft,
  withCandidate,
  withDecoded,
} from "./draft";

function fakeDecoded(points: number, iou = [0.5, 0.7, 0.9, 0.8]) {
  const lowRes = new Float32Array(CANDIDATES * LOW_RES_AREA);
  for (let k = 0; k < CANDIDATES; k++) lowRes.fill(k + 0.5, k * LOW_RES_AREA, (k + 1) * LOW_RES_AREA);
  return decodedFor(lowRes, iou, {
    points: Array.from({ length: points }, () => ({ x: 1, y: 1, label: 1 as const })),
  });
}

describe("draft", () => {
  it("shows SAM's choice and offers 1/2/3 only for a single click", () => {
    const one = withDecoded(emptyDraft(), [{ x: 1, y: 2, label: 1 }], null, fakeDecoded(1));
    expect(offersChoices(one.decoded)).toBe(true);
    expect(one.candidate).toBe(2); // highest IoU among tokens 1-3
    expect(withCandidate(one, 3).candidate).toBe(3);
    const two = withDecoded(one, [...one.points, { x: 5, y: 5, label: 0 }], null, fakeDecoded(2));
    expect(offersChoices(two.decoded)).toBe(false);
    expect(two.candidate).toBe(0);
    expect(withCandidate(two, 1).candidate).toBe(0);
  });

  it("guesses background for a next click inside the mask on screen, foreground outside", () => {
    // a 2000 x 1000 image fills 256 x 128 low-res cells; the mask on screen covers its right half
    const decoded = fakeDecoded(1);
    const k = withDecoded(emptyDraft(), [{ x: 1500, y: 500, label: 1 }], null, decoded).candidate;
    const logits = decoded.lowRes.subarray(k * LOW_RES_AREA, (k + 1) * LOW_RES_AREA);
    for (let i = 0; i < 256; i++)
      for (let j = 0; j < 256; j++) logits[i * 256 + j] = j >= 128 && i < 128 ? 3 : -3;
    const d = withDecoded(emptyDraft(), [{ x: 1500, y: 500, label: 1 }], null, decoded);
    expect(likelyLabel(d, 1500, 500, 2000, 1000)).toBe(0);
    expect(likelyLabel(d, 1010, 990, 2000, 1000)).toBe(0);
    expect(likelyLabel(d, 990, 10, 2000, 1000)).toBe(1);
    expect(likelyLabel(emptyDraft(), 1500, 500, 2000, 1000)).toBe(1);
  });

  it("refines with the logits on screen", () => {
    const d = withCandidate(withDecoded(emptyDraft(), [{ x: 1, y: 2, label: 1 }], null, fakeDecoded(1)), 1);
    const prompt = draftPrompt(d, [...d.points, { x: 3, y: 3, label: 0 }]);
    expect(prompt.points).toHaveLength(2);
    expect(prompt.maskInput?.[0]).toBe(1.5);
    expect(chosenLogits(emptyDraft())).toBeNull();
    expect(draftPrompt(emptyDraft(), [{ x: 0, y: 0, label: 1 }]).maskInput).toBeUndefined();
  });

  it("survives a round trip through storage, logits included", () => {
    const d = {
      ...withDecoded(
        emptyDraft(),
        [{ x: 1, y: 2, label: 1 }],
        { x0: 0, y0: 0, x1: 9, y1: 9 },
        fakeDecoded(1),
      ),
      strokes: [{ mode: "erase" as const, radius: 4, points: [1, 2, 3, 4] }],
      label: "dog",
    };
    const back = parseDraft(serializeDraft(d));
    expect(back).not.toBeNull();
    expect(back?.points).toEqual(d.points);
    expect(back?.box).toEqual(d.box);
    expect(back?.strokes).toEqual(d.strokes);
    expect(back?.label).toBe("dog");
    expect(back?.decoded?.lowRes[2 * LOW_RES_AREA + 7]).toBe(2.5);
    expect(parseDraft("{not json")).toBeNull();
    expect(parseDraft(JSON.stringify({ v: 2 }))).toBeNull();
  });

  it("undoes and redoes in order; a new step clears redo", () => {
    let h = emptyHistory<string>();
    const a = emptyDraft();
    const b = { ...a, label: "b" };
    h = pushHistory(h, { kind: "draft", before: a, after: b });
    h = pushHistory(h, { kind: "accept", before: b, mask: "m1" });
    const u1 = popUndo(h);
    expect(u1?.entry.kind).toBe("accept");
    const u2 = u1 && popUndo(u1.history);
    expect(u2?.entry.kind).toBe("draft");
    const r1 = u2 && popRedo(u2.history);
    expect(r1?.entry.kind).toBe("draft");
    const fresh = r1 && pushHistory(r1.history, { kind: "delete", mask: "m0" });
    expect(fresh?.future).toEqual([]);
    expect(popUndo(emptyHistory())).toBeNull();
  });
});
