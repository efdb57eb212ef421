/**
 * Saves, edits and deletes go through an outbox kept in localStorage: an operation leaves it only when
 * the server has acknowledged it, so a network failure, a server restart or a closed tab loses nothing.
 * Operations run one at a time in order (a delete never overtakes the save it undoes); transient
 * failures are retried with backoff; a refusal (bad input, conflict, no access) is kept and shown, and
 * holds up only the later changes of the same mask.
 */
import { z } from "zod";

export const outboxOpSchema = z.object({
  /** Unique per operation, for React keys and de-duplication. */
  key: z.string(),
  kind: z.enum(["save", "update", "delete", "restore", "accept", "review"]),
  maskId: z.string(),
  imageId: z.string(),
  /** The procedure's input, JSON-safe (dates as ISO strings). */
  input: z.record(z.string(), z.unknown()),
  attempts: z.number().int().default(0),
  /** Why the last attempt failed; `refused` ones wait for the user instead of being retried. */
  error: z.string().nullable().default(null),
  refused: z.boolean().default(false),
});
export type OutboxOp = z.infer<typeof outboxOpSchema>;

/** What a send attempt can end in, so the outbox knows whether to retry. */
export class OutboxRefusal extends Error {
  override name = "OutboxRefusal";
}

export interface OutboxStore {
  load(): OutboxOp[];
  save(ops: OutboxOp[]): void;
}

export const OUTBOX_KEY = "sas.outbox.v1";

export function localStorageStore(storage: Storage, key = OUTBOX_KEY): OutboxStore {
  return {
    load() {
      try {
        const parsed = z.array(outboxOpSchema).safeParse(JSON.parse(storage.getItem(key) ?? "[]"));
        return parsed.success ? parsed.data : [];
      } catch {
        return [];
      }
    },
    save(ops) {
      storage.setItem(key, JSON.stringify(ops));
    },
  };
}

export const RETRY_BASE_MS = 1_000;
export const RETRY_MAX_MS = 30_000;
export const retryDelay = (attempts: number) =>
  Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));

export interface OutboxOptions {
  store: OutboxStore;
  /** Performs one operation; throw OutboxRefusal for a definitive no, anything else is retried. */
  send: (op: OutboxOp) => Promise<unknown>;
  onAcked?: (op: OutboxOp, result: unknown) => void;
  onChange?: (ops: readonly OutboxOp[]) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class Outbox {
  private ops: OutboxOp[];
  private running = false;
  private timer: unknown = null;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: OutboxOptions) {
    this.ops = options.store.load();
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get pending(): readonly OutboxOp[] {
    return this.ops;
  }

  enqueue(op: Omit<OutboxOp, "attempts" | "error" | "refused">): void {
    this.ops = [...this.ops, { ...op, attempts: 0, error: null, refused: false }];
    this.commit();
    this.kick();
  }

  /** Drops a refused operation the user has seen (e.g. a conflict they resolved by reloading). */
  discard(key: string): void {
    this.ops = this.ops.filter((op) => op.key !== key);
    this.commit();
    this.kick();
  }

  /** Retry now, e.g. when the browser says it is back online. */
  retryNow(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.kick();
  }

  /**
   * The next operation to send: the oldest one not refused and not behind a refused operation on the
   * same mask (those would fail the same way). A refusal holds up only its own mask's later changes.
   */
  private next(): OutboxOp | undefined {
    const blocked = new Set<string>();
    for (const op of this.ops) {
      if (op.refused) blocked.add(op.maskId);
      else if (!blocked.has(op.maskId)) return op;
    }
    return undefined;
  }

  /** Runs queued operations until none can go, a transient failure schedules a retry, or the queue is empty. */
  kick(): void {
    if (this.running || this.timer !== null) return;
    const op = this.next();
    if (!op) return;
    this.running = true;
    this.options
      .send(op)
      .then(
        (result) => {
          this.ops = this.ops.filter((o) => o.key !== op.key);
          this.commit();
          this.options.onAcked?.(op, result);
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          const refused = error instanceof OutboxRefusal;
          this.ops = this.ops.map((o) =>
            o.key === op.key ? { ...o, attempts: o.attempts + 1, error: message, refused } : o,
          );
          this.commit();
          if (!refused) {
            this.timer = this.setTimer(
              () => {
                this.timer = null;
                this.kick();
              },
              retryDelay(op.attempts + 1),
            );
          }
        },
      )
      .finally(() => {
        this.running = false;
        if (this.timer === null) this.kick();
      });
  }

  private commit(): void {
    this.options.store.save(this.ops);
    this.options.onChange?.(this.ops);
  }
}
