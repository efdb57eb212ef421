/**
 * The live mask events subscription (`annotate.events`, server-sent events) through the real tRPC route
 * handler, with a client that leaves: the way a closed annotation page ends its stream. Nothing may be
 * raised in the server process afterwards (however the leaving shows: the request's signal aborting,
 * the response body cancelled, or both, mid-event or idle), and the Redis subscription must end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { env, repoRoot, resetEnvCache } from "@sas/config";
import { disconnectPrisma, prisma } from "@sas/db";
import { closeQueues } from "@sas/queue";
import { Redis } from "ioredis";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeMaskEvents, publishMaskEvent } from "./services/mask-events";
import { buildPersonaWorld, type PersonaWorld, TEST_ORIGIN } from "./testing/personas";

process.env.LOG_LEVEL ??= "silent";

type Handler = (req: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
let world: PersonaWorld;
let dataDir: string;
let trpcGet: Handler;
const raised: unknown[] = [];
const record = (error: unknown) => raised.push(error);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-live-events-"));
  process.env.DATA_DIR = dataDir;
  resetEnvCache();
  world = await buildPersonaWorld(prisma());
  const route = pathToFileURL(path.join(repoRoot, "apps/web/src/app/api/trpc/[trpc]/route.ts")).href;
  trpcGet = ((await import(route)) as Record<string, Handler>).GET!;
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
});

afterAll(async () => {
  process.off("uncaughtException", record);
  process.off("unhandledRejection", record);
  await closeMaskEvents();
  await closeQueues();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many Redis connections listen to the image's events (the web process's one while subscribed). */
async function listeners(imageId: string): Promise<number> {
  const redis = new Redis(env().REDIS_URL);
  try {
    const [, count] = (await redis.pubsub("NUMSUB", `sas:image-events:${imageId}`)) as [string, number];
    return Number(count);
  } finally {
    redis.disconnect();
  }
}

function subscribe(signal: AbortSignal): Promise<Response> {
  const input = encodeURIComponent(JSON.stringify(superjson.serialize({ imageId: world.images.assigned })));
  return trpcGet(
    new Request(`${TEST_ORIGIN}/api/trpc/annotate.events?input=${input}`, {
      headers: world.headers("manager"),
      signal,
    }),
    { params: Promise.resolve({ trpc: "annotate.events" }) },
  );
}

const publish = (version: number) =>
  publishMaskEvent({
    type: "saved",
    imageId: world.images.assigned,
    maskId: world.masks.assigned,
    version,
    actorId: world.users.manager.id,
  });

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<void> {
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${JSON.stringify(text)}`);
    seen += decoder.decode(value, { stream: true });
  }
}

describe("annotate.events when the client leaves", () => {
  it.each([
    ["the request aborts", { abort: true, cancel: false, midEvent: false }],
    ["the body is cancelled", { abort: false, cancel: true, midEvent: false }],
    ["both, while an event is on its way", { abort: true, cancel: true, midEvent: true }],
  ])("%s: nothing is raised and the subscription ends", async (_, how) => {
    const client = new AbortController();
    const response = await subscribe(client.signal);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    await readUntil(reader, "event: connected");
    // Subscribed once the generator has run: the first event proves it.
    await sleep(100);
    await publish(1);
    await readUntil(reader, '"type":"saved"');
    expect(await listeners(world.images.assigned)).toBe(1);

    const pending = reader.read().catch(() => undefined);
    if (how.midEvent) await publish(2);
    if (how.abort) client.abort();
    if (how.cancel) await reader.cancel();
    // Events after the client left have nobody to go to.
    for (let version = 3; version < 6; version++) await publish(version);
    await sleep(200);
    // Either way of leaving is enough to end it.
    expect(await listeners(world.images.assigned)).toBe(0);
    if (!how.cancel) await reader.cancel();
    await pending;
    await sleep(100);
    expect(raised).toEqual([]);
  });
});
