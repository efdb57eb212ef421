import { describe, expect, it } from "vitest";
import { Outbox, type OutboxOp, OutboxRefusal, type OutboxStore, retryDelay } from "./outbox";

function memoryStore(initial: OutboxOp[] = []): OutboxStore & { ops: OutboxOp[] } {
  return {
    ops: initial,
    load() {
      return this.ops;
    },
    save(ops) {
      this.ops = ops;
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const op = (key: string, kind: OutboxOp["kind"] = "save") => ({
  key,
  kind,
  maskId: `m-${key}`,
  imageId: "img",
  input: { id: `m-${key}` },
});

describe("Outbox", () => {
  it("keeps an operation until it is acknowledged, retrying transient failures in order", async () => {
    const store = memoryStore();
    const sent: string[] = [];
    const timers: (() => void)[] = [];
    let failNext = 2;
    const acked: string[] = [];
    const box = new Outbox({
      store,
      async send(o) {
        sent.push(o.key);
        if (o.key === "a" && failNext-- > 0) throw new Error("fetch failed");
        return { ok: o.key };
      },
      onAcked: (o) => acked.push(o.key),
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
    box.enqueue(op("a"));
    box.enqueue(op("b", "delete"));
    await flush();
    // a failed; b must wait behind it, and both are still stored (a reload would find them)
    expect(sent).toEqual(["a"]);
    expect(store.ops.map((o) => o.key)).toEqual(["a", "b"]);
    expect(store.ops[0]).toMatchObject({ attempts: 1, error: "fetch failed", refused: false });
    timers.shift()?.();
    await flush();
    timers.shift()?.();
    await flush();
    await flush();
    expect(sent).toEqual(["a", "a", "a", "b"]);
    expect(acked).toEqual(["a", "b"]);
    expect(store.ops).toEqual([]);
  });

  it("stops at a refusal and keeps it for the user instead of retrying", async () => {
    const store = memoryStore();
    const timers: (() => void)[] = [];
    const box = new Outbox({
      store,
      async send() {
        throw new OutboxRefusal("someone else changed this mask");
      },
      setTimer: (fn) => timers.push(fn),
    });
    box.enqueue(op("a", "update"));
    await flush();
    expect(timers).toHaveLength(0);
    expect(store.ops[0]).toMatchObject({ refused: true, error: "someone else changed this mask" });
    box.discard("a");
    expect(store.ops).toEqual([]);
  });

  it("lets other masks' saves through past a refusal, but holds that mask's later changes", async () => {
    const store = memoryStore();
    const sent: string[] = [];
    const box = new Outbox({
      store,
      async send(o) {
        sent.push(o.key);
        if (o.key === "a") throw new OutboxRefusal("conflict");
        return {};
      },
      setTimer: () => 0,
    });
    box.enqueue(op("a", "update"));
    box.enqueue({ ...op("a2", "delete"), maskId: "m-a" });
    box.enqueue(op("b"));
    await flush();
    await flush();
    expect(sent).toEqual(["a", "b"]);
    expect(store.ops.map((o) => o.key)).toEqual(["a", "a2"]);
  });

  it("picks up what a previous page left behind", async () => {
    const store = memoryStore([{ ...op("old"), attempts: 3, error: "network", refused: false }]);
    const sent: string[] = [];
    const box = new Outbox({ store, send: async (o) => sent.push(o.key) });
    box.kick();
    await flush();
    expect(sent).toEqual(["old"]);
    expect(store.ops).toEqual([]);
  });

  it("backs off exponentially up to a cap", () => {
    expect([1, 2, 3, 10].map(retryDelay)).toEqual([1_000, 2_000, 4_000, 30_000]);
  });
});
