import { describe, expect, it } from "vitest";
import { DecoderClient, SupersededError, type WorkerLike } from "./decoder-client";
import type { DecoderRequest, DecoderResponse } from "./protocol";

/** A worker that answers decodes only when the test says so, to observe what is in flight. */
class ManualWorker implements WorkerLike {
  onmessage: ((event: MessageEvent<DecoderResponse>) => void) | null = null;
  sent: DecoderRequest[] = [];
  postMessage(message: DecoderRequest) {
    this.sent.push(message);
  }
  terminate() {}
  answer(id: number) {
    this.onmessage?.({
      data: {
        type: "decoded",
        id,
        lowRes: new Float32Array(1),
        iou: new Float32Array(4),
        decodeMs: 1,
        runMs: 1,
      },
    } as MessageEvent<DecoderResponse>);
  }
  decodes() {
    return this.sent.filter((m) => m.type === "decode") as Extract<DecoderRequest, { type: "decode" }>[];
  }
}

const at = (x: number) => ({ points: [{ x, y: 0, label: 1 as const }] });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("DecoderClient scheduling", () => {
  it("keeps one decode in flight and only the latest hover waiting", async () => {
    const w = new ManualWorker();
    const client = new DecoderClient(w, {
      modelBase: "m/",
      ortBase: "/ort/",
      threads: 2,
      preferWebGpu: false,
    });
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<unknown>) =>
      p.then(
        () => outcomes.push(`${name}:ok`),
        (e) => outcomes.push(`${name}:${e instanceof SupersededError ? "superseded" : "error"}`),
      );
    track("h1", client.hover("img", at(1)));
    track("h2", client.hover("img", at(2)));
    track("h3", client.hover("img", at(3)));
    await tick();
    // h1 went out at once; h2 was replaced by h3 while waiting
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1]);
    expect(outcomes).toEqual(["h2:superseded"]);
    w.answer(w.decodes()[0]!.id);
    await tick();
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1, 3]);

    // a click while a hover is in flight goes next, and the waiting hover is dropped
    track("h4", client.hover("img", at(4)));
    track("click", client.decode("img", at(5)));
    w.answer(w.decodes()[1]!.id);
    await tick();
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1, 3, 5]);
    w.answer(w.decodes()[2]!.id);
    await tick();
    expect(outcomes).toEqual(["h2:superseded", "h1:ok", "h4:superseded", "h3:ok", "click:ok"]);
    expect(client.inFlight).toBe(false);
  });
});
