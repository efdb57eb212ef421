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

function newClient() {
  const w = new ManualWorker();
  const client = new DecoderClient(w, {
    graphsUrl: "/m",
    ortBase: "/ort/",
    ortVersion: "0",
    threads: 2,
    preferWebGpu: false,
  });
  return { w, client };
}

describe("DecoderClient scheduling", () => {
  it("keeps one decode in flight and only the latest look-ahead waiting", async () => {
    const { w, client } = newClient();
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<unknown>) =>
      p.then(
        () => outcomes.push(`${name}:ok`),
        (e) => outcomes.push(`${name}:${e instanceof SupersededError ? "superseded" : "error"}`),
      );
    track("h1", client.lookAhead("img", at(1)));
    track("h2", client.lookAhead("img", at(2)));
    track("h3", client.lookAhead("img", at(3)));
    await tick();
    // h1 went out at once; h2 was replaced by h3 while waiting
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1]);
    expect(outcomes).toEqual(["h2:superseded"]);
    w.answer(w.decodes()[0]!.id);
    await tick();
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1, 3]);

    // a click while a hover is in flight goes next, and the waiting hover is dropped
    track("h4", client.lookAhead("img", at(4)));
    track("click", client.decode("img", at(5)));
    w.answer(w.decodes()[1]!.id);
    await tick();
    expect(w.decodes().map((d) => d.points[0]?.x)).toEqual([1, 3, 5]);
    w.answer(w.decodes()[2]!.id);
    await tick();
    expect(outcomes).toEqual(["h2:superseded", "h1:ok", "h4:superseded", "h3:ok", "click:ok"]);
    expect(client.inFlight).toBe(false);
  });

  it("answers a click from the look-ahead of the same prompt, running, waiting or done", async () => {
    const { w, client } = newClient();
    const logits = new Float32Array(4 * 65536);
    const refine = (x: number) => ({ ...at(x), maskInput: logits.subarray(65536, 2 * 65536) });

    // running: the click waits on the look-ahead's decode instead of sending its own
    expect(client.stateOf("img", refine(7))).toBe("none");
    const ahead = client.lookAhead("img", refine(7));
    await tick();
    expect(client.stateOf("img", refine(7))).toBe("decoding");
    const click = client.decode("img", refine(7));
    expect(w.decodes()).toHaveLength(1);
    w.answer(w.decodes()[0]!.id);
    expect(await click).toBe(await ahead);

    // done: the same prompt again (a new view of the same logits) is answered without the worker
    expect(client.stateOf("img", refine(7))).toBe("answered");
    expect(await client.decode("img", refine(7))).toBe(await ahead);
    expect(w.decodes()).toHaveLength(1);

    // a different mask input, image or point is a different prompt
    const other = client.decode("img", { ...at(7), maskInput: new Float32Array(65536) });
    await tick();
    expect(w.decodes()).toHaveLength(2);
    w.answer(w.decodes()[1]!.id);
    await other;

    // waiting behind a running decode: the click takes the look-ahead's place in the queue
    const busy = client.decode("img", at(1));
    const waiting = client.lookAhead("img", at(2));
    const clickWaiting = client.decode("img", at(2));
    await tick();
    w.answer(w.decodes()[2]!.id);
    await busy;
    await tick();
    w.answer(w.decodes()[3]!.id);
    expect(await clickWaiting).toBe(await waiting);

    // the same point on another image is another prompt
    const elsewhere = client.decode("other-img", at(2));
    await tick();
    w.answer(w.decodes()[4]!.id);
    await elsewhere;
    expect(w.decodes().map((d) => [d.key, d.points[0]?.x])).toEqual([
      ["img", 7],
      ["img", 7],
      ["img", 1],
      ["img", 2],
      ["other-img", 2],
    ]);
    await tick();
    expect(client.counts).toEqual({ sent: 5, done: 5 });
  });
});
