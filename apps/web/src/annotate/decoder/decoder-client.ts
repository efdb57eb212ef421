/**
 * The page's handle on the decoder worker. Clicks are decoded in order; hover requests keep only the
 * latest position, and at most one decode is ever in flight, so moving the mouse never builds a queue.
 */
import type { BoxPrompt, PointPrompt } from "@sas/sam";
import type {
  DecodedResponse,
  DecoderRequest,
  DecoderResponse,
  InitRequest,
  LoadedResponse,
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

interface Job {
  key: string;
  input: DecodeInput;
  resolve: (out: DecodeOutput) => void;
  reject: (error: Error) => void;
}

export class DecoderClient {
  readonly ready: Promise<ReadyResponse>;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: DecoderResponse) => void; reject: (e: Error) => void }>();
  private clicks: Job[] = [];
  private hoverJob: Job | null = null;
  private busy = false;

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

  /** Fetches (or finds cached) the embedding of `key`; also how the next image is prefetched. */
  load(key: string, url: string): Promise<LoadedResponse> {
    return this.request<LoadedResponse>({ type: "load", id: this.nextId++, key, url });
  }

  /** Decodes a committed prompt (click, box, refinement). Runs before any pending hover. */
  decode(key: string, input: DecodeInput): Promise<DecodeOutput> {
    return new Promise((resolve, reject) => {
      this.clicks.push({ key, input, resolve, reject });
      if (this.hoverJob) {
        this.hoverJob.reject(new SupersededError());
        this.hoverJob = null;
      }
      this.pump();
    });
  }

  /**
   * Decodes a hover position. A newer hover replaces one still waiting (its promise rejects with
   * SupersededError); a committed prompt always goes first.
   */
  hover(key: string, input: DecodeInput): Promise<DecodeOutput> {
    return new Promise((resolve, reject) => {
      this.hoverJob?.reject(new SupersededError());
      this.hoverJob = { key, input, resolve, reject };
      this.pump();
    });
  }

  /** Drops a waiting hover (the cursor left the image, or a prompt was made). */
  cancelHover(): void {
    this.hoverJob?.reject(new SupersededError());
    this.hoverJob = null;
  }

  get inFlight(): boolean {
    return this.busy;
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.clicks.shift() ?? this.hoverJob;
    if (!job) return;
    if (job === this.hoverJob) this.hoverJob = null;
    this.busy = true;
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
      .then(({ type: _t, id: _i, ...out }) => job.resolve(out), job.reject)
      .finally(() => {
        this.busy = false;
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
