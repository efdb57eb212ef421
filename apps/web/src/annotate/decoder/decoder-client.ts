/**
 * The page's handle on the decoder worker. Committed prompts are decoded in order; look-ahead requests
 * (the hover preview, and the next click where the cursor rests) keep only the latest, and at most one
 * decode is ever in flight, so moving the mouse never builds a queue. A prompt that was already decoded
 * or is being decoded ahead (same image, points, box and mask input) is answered from that decode
 * instead of a new one: a click where the cursor rested shows its mask as soon as the look-ahead is done.
 */
import type { BoxPrompt, PointPrompt } from "@sas/sam";
import type {
  DecodedResponse,
  DecoderRequest,
  DecoderResponse,
  InitRequest,
  LoadedResponse,
  LoadItem,
  ReadyResponse,
} from "./protocol";

export interface DecodeInput {
  points: PointPrompt[];
  box?: BoxPrompt;
  maskInput?: Float32Array;
}

export type DecodeOutput = Omit<DecodedResponse, "type" | "id">;

/** What the page needs from a Worker (an interface so the scheduling can be tested without one). */
export interface WorkerLike {
  postMessage(message: DecoderRequest, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<DecoderResponse>) => void) | null;
  terminate(): void;
}

interface Waiter {
  resolve: (out: DecodeOutput) => void;
  reject: (error: Error) => void;
}

interface Job {
  key: string;
  input: DecodeInput;
  signature: string;
  waiters: Waiter[];
}

/** Decoded prompts kept for reuse (each answer is 1 MB of logits). */
const CACHED_ANSWERS = 6;

/**
 * Identifies a decode: the image, the prompts and which logits the mask input is (the caller passes
 * views of the draft's decoder answer, so the same buffer and offset mean the same values).
 */
export class PromptSignatures {
  private buffers = new WeakMap<ArrayBufferLike, number>();
  private nextBuffer = 1;

  of(key: string, input: DecodeInput): string {
    const points = input.points.map((p) => `${p.x},${p.y},${p.label}`).join(";");
    const box = input.box ? `${input.box.x0},${input.box.y0},${input.box.x1},${input.box.y1}` : "";
    let mask = "";
    if (input.maskInput) {
      const m = input.maskInput;
      let id = this.buffers.get(m.buffer);
      if (id === undefined) {
        id = this.nextBuffer++;
        this.buffers.set(m.buffer, id);
      }
      mask = `${id}@${m.byteOffset}+${m.length}`;
    }
    return JSON.stringify([key, points, box, mask]);
  }
}

export class DecoderClient {
  readonly ready: Promise<ReadyResponse>;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: DecoderResponse) => void; reject: (e: Error) => void }>();
  private clicks: Job[] = [];
  private lookAheadJob: Job | null = null;
  private running: Job | null = null;
  private answers = new Map<string, DecodeOutput>();
  private signatures = new PromptSignatures();
  /** Decodes sent to the worker, and those it has finished. */
  readonly counts = { sent: 0, done: 0 };
  /** What the worker is loading or has loaded, by item id (the latest report of each). */
  readonly loading = new Map<string, LoadItem>();
  private progressListeners = new Set<(items: readonly LoadItem[]) => void>();
  /** Steps of opening the worker finished, at epoch ms (see MarkResponse). */
  readonly marks: { step: string; epochMs: number }[] = [];

  constructor(
    private readonly worker: WorkerLike,
    init: Omit<InitRequest, "type">,
  ) {
    let resolveReady: (r: ReadyResponse) => void = () => {};
    let rejectReady: (e: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    worker.onmessage = ({ data }) => {
      if (data.type === "ready") return resolveReady(data);
      if (data.type === "progress") {
        this.loading.set(data.item.id, data.item);
        const items = [...this.loading.values()];
        for (const listener of this.progressListeners) listener(items);
        return;
      }
      if (data.type === "mark") {
        this.marks.push({ step: data.step, epochMs: data.epochMs });
        return;
      }
      if (data.type === "error" && data.id === undefined) return rejectReady(new Error(data.message));
      if (data.type === "error" || data.type === "loaded" || data.type === "decoded") {
        const waiter = data.id === undefined ? undefined : this.waiting.get(data.id);
        if (!waiter || data.id === undefined) return;
        this.waiting.delete(data.id);
        if (data.type === "error") waiter.reject(new Error(data.message));
        else waiter.resolve(data);
      }
    };
    worker.postMessage({ type: "init", ...init });
  }

  private request<R extends DecoderResponse>(msg: DecoderRequest, transfer: Transferable[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (msg.type === "init") throw new Error("init is sent once by the constructor");
      this.waiting.set(msg.id, { resolve: resolve as (r: DecoderResponse) => void, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  /**
   * Fetches (or finds cached) the embedding of `key`; also how the next image is prefetched (`report`
   * false: no progress for an image nobody is waiting for).
   */
  load(key: string, url: string, report = true): Promise<LoadedResponse> {
    return this.request<LoadedResponse>({ type: "load", id: this.nextId++, key, url, report });
  }

  /** Calls `listener` with every item on each progress report; returns the unsubscribe. */
  onProgress(listener: (items: readonly LoadItem[]) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** An earlier answer or a decode under way for the same prompt, which `waiter` then waits on. */
  private reuse(signature: string, waiter: Waiter): boolean {
    const answer = this.answers.get(signature);
    if (answer) {
      this.answers.delete(signature); // most recently used goes last
      this.answers.set(signature, answer);
      waiter.resolve(answer);
      return true;
    }
    const job = [this.running, ...this.clicks, this.lookAheadJob].find((j) => j?.signature === signature);
    if (!job) return false;
    job.waiters.push(waiter);
    return true;
  }

  /** Whether this prompt is already answered, being decoded (or waiting to be), or neither. */
  stateOf(key: string, input: DecodeInput): "answered" | "decoding" | "none" {
    const signature = this.signatures.of(key, input);
    if (this.answers.has(signature)) return "answered";
    const jobs = [this.running, ...this.clicks, this.lookAheadJob];
    return jobs.some((j) => j?.signature === signature) ? "decoding" : "none";
  }

  /**
   * Decodes a committed prompt (click, box, refinement). Runs before any look-ahead, which it drops unless
   * that is the same prompt (then it waits on that one).
   */
  decode(key: string, input: DecodeInput): Promise<DecodeOutput> {
    return new Promise((resolve, reject) => {
      const signature = this.signatures.of(key, input);
      const look = this.lookAheadJob;
      if (look?.signature === signature) {
        this.lookAheadJob = null;
        this.clicks.push(look);
      }
      if (!this.reuse(signature, { resolve, reject })) {
        this.clicks.push({ key, input, signature, waiters: [{ resolve, reject }] });
        this.cancelLookAhead();
      }
      this.pump();
    });
  }

  /**
   * Decodes a prompt the user may make next (the hover preview; the click where the cursor rests). A
   * newer look-ahead replaces one still waiting (its promise rejects with SupersededError); a committed
   * prompt always goes first.
   */
  lookAhead(key: string, input: DecodeInput): Promise<DecodeOutput> {
    return new Promise((resolve, reject) => {
      const signature = this.signatures.of(key, input);
      if (this.reuse(signature, { resolve, reject })) return;
      this.cancelLookAhead();
      this.lookAheadJob = { key, input, signature, waiters: [{ resolve, reject }] };
      this.pump();
    });
  }

  /** Drops a waiting look-ahead (the cursor left the image, or a prompt was made). */
  cancelLookAhead(): void {
    for (const w of this.lookAheadJob?.waiters ?? []) w.reject(new SupersededError());
    this.lookAheadJob = null;
  }

  get inFlight(): boolean {
    return this.running !== null;
  }

  private pump(): void {
    if (this.running) return;
    const job = this.clicks.shift() ?? this.lookAheadJob;
    if (!job) return;
    if (job === this.lookAheadJob) this.lookAheadJob = null;
    this.running = job;
    this.counts.sent++;
    const { input } = job;
    // The mask input is copied, not transferred: the caller keeps its logits for undo.
    const msg: DecoderRequest = {
      type: "decode",
      id: this.nextId++,
      key: job.key,
      points: input.points,
      ...(input.box ? { box: input.box } : {}),
      ...(input.maskInput ? { maskInput: input.maskInput } : {}),
    };
    this.request<DecodedResponse>(msg)
      .then(
        ({ type: _t, id: _i, ...out }) => {
          this.answers.set(job.signature, out);
          for (const old of this.answers.keys()) {
            if (this.answers.size <= CACHED_ANSWERS) break;
            this.answers.delete(old);
          }
          for (const w of job.waiters) w.resolve(out);
        },
        (error: Error) => {
          for (const w of job.waiters) w.reject(error);
        },
      )
      .finally(() => {
        this.counts.done++;
        this.running = null;
        this.pump();
      });
  }

  dispose(): void {
    this.worker.terminate();
    for (const w of this.waiting.values()) w.reject(new Error("decoder closed"));
    this.waiting.clear();
  }
}

export class SupersededError extends Error {
  override name = "SupersededError";
}

export function createDecoderWorker(): WorkerLike {
  return new Worker(new URL("./decoder.worker.ts", import.meta.url), {
    type: "module",
    name: "sam-decoder",
  }) as WorkerLike;
}
