/**
 * Live collaboration: every change to a mask is published on Redis, per image, and every web process
 * fans it out to the people viewing that image (tRPC subscription over server-sent events). Redis
 * pub/sub, not process memory, so several web instances behind a load balancer all see every change.
 */
import { env, logger } from "@sas/config";
import { createRedis } from "@sas/queue";
import { z } from "zod";

type Redis = ReturnType<typeof createRedis>;

export const maskEventSchema = z.object({
  type: z.enum(["saved", "updated", "deleted", "restored", "reviewed"]),
  imageId: z.uuid(),
  maskId: z.uuid(),
  version: z.number().int(),
  actorId: z.string(),
  at: z.string(),
});
export type MaskEvent = z.infer<typeof maskEventSchema>;

const channel = (imageId: string) => `sas:image-events:${imageId}`;
const log = logger("mask-events");

let publisher: Redis | null = null;
let subscriber: Redis | null = null;
const listeners = new Map<string, Set<(event: MaskEvent) => void>>();

function publisherConnection(): Redis {
  // Queue while (re)connecting: the first publish of a process must not be lost to connection set-up.
  publisher ??= createRedis(env().REDIS_URL, "producer", {
    connectionName: "sam-studio:events-pub",
    enableOfflineQueue: true,
  });
  return publisher;
}

function subscriberConnection(): Redis {
  if (subscriber) return subscriber;
  // A subscribed connection can do nothing else, and must come back by itself after a Redis restart.
  const sub = createRedis(env().REDIS_URL, "worker", { connectionName: "sam-studio:events-sub" });
  sub.on("message", (ch: string, message: string) => {
    const imageId = ch.slice(channel("").length);
    const parsed = maskEventSchema.safeParse(JSON.parse(message));
    if (!parsed.success) return log.warn({ ch }, "ignored a malformed mask event");
    for (const listener of listeners.get(imageId) ?? []) listener(parsed.data);
  });
  sub.on("error", (error: Error) => log.warn({ err: error.message }, "event subscriber connection"));
  subscriber = sub;
  return sub;
}

/**
 * Tells everyone viewing the image. Best effort: the change itself is already committed, and a viewer who
 * misses the event still sees it on their next load, so a Redis hiccup must not fail the request.
 */
export async function publishMaskEvent(event: Omit<MaskEvent, "at">): Promise<void> {
  try {
    await publisherConnection().publish(
      channel(event.imageId),
      JSON.stringify({ ...event, at: new Date().toISOString() }),
    );
  } catch (error) {
    log.warn({ err: (error as Error).message, imageId: event.imageId }, "could not publish a mask event");
  }
}

/** Calls `listener` for each event on the image until the returned function is called. */
export async function subscribeMaskEvents(
  imageId: string,
  listener: (event: MaskEvent) => void,
): Promise<() => void> {
  let set = listeners.get(imageId);
  if (!set) {
    set = new Set();
    listeners.set(imageId, set);
    await subscriberConnection().subscribe(channel(imageId));
  }
  set.add(listener);
  return () => {
    const current = listeners.get(imageId);
    if (!current) return;
    current.delete(listener);
    if (current.size === 0) {
      listeners.delete(imageId);
      void subscriber?.unsubscribe(channel(imageId)).catch(() => {});
    }
  };
}

/**
 * The image's events as an async iterable that ends when `signal` aborts: what a tRPC subscription
 * yields. Events arriving faster than the client reads are buffered (they are small and rare).
 */
export async function* maskEvents(imageId: string, signal?: AbortSignal): AsyncGenerator<MaskEvent> {
  const queue: MaskEvent[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = await subscribeMaskEvents(imageId, (event) => {
    queue.push(event);
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    while (!signal?.aborted) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}

/** Closes the shared connections (tests, shutdown). */
export async function closeMaskEvents(): Promise<void> {
  listeners.clear();
  await Promise.all([publisher?.quit().catch(() => {}), subscriber?.quit().catch(() => {})]);
  publisher = null;
  subscriber = null;
}
