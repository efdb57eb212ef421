/**
 * The security suite: the real route handlers (better-auth behind @sas/auth's checks, the tRPC HTTP
 * handler, the upload route) called with real requests, against the real Postgres and Redis. What the
 * front server adds (the client address from the socket) is simulated here by the header it sets; the
 * socket side is covered in packages/launcher/src/web-server.int.test.ts.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CLIENT_ADDRESS_HEADER, closeRateLimits, FRONT_SERVER_ENV } from "@sas/auth";
import { env, repoRoot, resetEnvCache } from "@sas/config";
import { createPrisma, disconnectPrisma, prisma } from "@sas/db";
import { closeQueues } from "@sas/queue";
import { Redis } from "ioredis";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MASK_BODY_LIMIT, MAX_BATCH_SIZE } from "./request-bounds";
import { createCaller } from "./root";
import { closeMaskEvents } from "./services/mask-events";
import {
  buildPersonaWorld,
  PERSONA_PASSWORD,
  type Persona,
  type PersonaWorld,
  rectRle,
  signInCookie,
  TEST_ORIGIN,
} from "./testing/personas";

process.env.LOG_LEVEL ??= "silent";

type Handler = (
  req: Request,
  context: { params: Promise<Record<string, string | string[]>> },
) => Promise<Response>;
const appDir = path.join(repoRoot, "apps/web/src/app");
async function route(file: string, method: "GET" | "POST"): Promise<Handler> {
  const mod = (await import(pathToFileURL(path.join(appDir, file)).href)) as Record<string, Handler>;
  return mod[method]!;
}

let world: PersonaWorld;
let dataDir: string;
let authGet: Handler;
let authPost: Handler;
let trpcGet: Handler;
let trpcPost: Handler;
let upload: Handler;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-security-"));
  process.env.DATA_DIR = dataDir;
  // As under the front server: the client address is the header it sets.
  process.env[FRONT_SERVER_ENV] = "1";
  resetEnvCache();
  world = await buildPersonaWorld(prisma());
  authGet = await route("api/auth/[...all]/route.ts", "GET");
  authPost = await route("api/auth/[...all]/route.ts", "POST");
  trpcGet = await route("api/trpc/[trpc]/route.ts", "GET");
  trpcPost = await route("api/trpc/[trpc]/route.ts", "POST");
  upload = await route("api/projects/[projectId]/images/route.ts", "POST");
});

afterAll(async () => {
  delete process.env[FRONT_SERVER_ENV];
  closeRateLimits();
  await closeMaskEvents();
  await closeQueues();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

const noParams = { params: Promise.resolve({}) };

function signInRequest(email: string, password: string, headers: Record<string, string> = {}): Request {
  return new Request(`${TEST_ORIGIN}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: TEST_ORIGIN, ...headers },
    body: JSON.stringify({ email, password }),
  });
}

const QUERIES = new Set(["users.search"]);

/** A tRPC call through the HTTP handler (GET for queries); answers status and the error's message and code. */
async function mutate(
  procedure: string,
  input: unknown,
  headers: Headers,
): Promise<{ status: number; message?: string; code?: string }> {
  const serialized = JSON.stringify(superjson.serialize(input));
  let response: Response;
  if (QUERIES.has(procedure)) {
    const url = `${TEST_ORIGIN}/api/trpc/${procedure}?input=${encodeURIComponent(serialized)}`;
    response = await trpcGet(new Request(url, { headers }), noParams);
  } else {
    headers.set("content-type", "application/json");
    response = await trpcPost(
      new Request(`${TEST_ORIGIN}/api/trpc/${procedure}`, { method: "POST", headers, body: serialized }),
      noParams,
    );
  }
  const body = (await response.json()) as { error?: { json: { message: string; data: { code: string } } } };
  return { status: response.status, message: body.error?.json.message, code: body.error?.json.data.code };
}

describe("sign-in limits", () => {
  it("counts per client address, whatever X-Forwarded-For says, and keeps the count in Redis", async () => {
    const attacker = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < env().AUTH_SIGNIN_PER_MINUTE + 5; i++) {
      // A different (unknown) account each time, so only the address limit can answer 429.
      const response = await authPost(
        signInRequest(`nobody-${randomUUID()}@personas.test`, "wrong-password-x", {
          [CLIENT_ADDRESS_HEADER]: attacker,
          "x-forwarded-for": `10.0.${i}.1`,
          "x-real-ip": `10.1.${i}.1`,
        }),
        noParams,
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, env().AUTH_SIGNIN_PER_MINUTE).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(env().AUTH_SIGNIN_PER_MINUTE)).toEqual([429, 429, 429, 429, 429]);
    // Other clients are not affected: the admin signs in from another address.
    const admin = await authPost(
      signInRequest(world.users.admin.email, PERSONA_PASSWORD, {
        [CLIENT_ADDRESS_HEADER]: "198.51.100.7",
        "x-forwarded-for": attacker,
      }),
      noParams,
    );
    expect(admin.status).toBe(200);
    // Every web instance shares the count: it lives in Redis.
    const redis = new Redis(env().REDIS_URL);
    try {
      expect(Number(await redis.get(`sas:limit:signin:address:${attacker}`))).toBe(
        env().AUTH_SIGNIN_PER_MINUTE + 5,
      );
    } finally {
      redis.disconnect();
    }
  });

  it("backs off per account after five wrong passwords, even from many addresses, and a correct one clears it", async () => {
    const email = world.users.reviewer.email;
    const attempt = (password: string, i: number) =>
      authPost(signInRequest(email, password, { [CLIENT_ADDRESS_HEADER]: `192.0.2.${i}` }), noParams);
    for (let i = 0; i < 5; i++) expect((await attempt("wrong-password-x", i)).status).toBe(401);
    const locked = await attempt(PERSONA_PASSWORD, 10);
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("1");
    expect(((await locked.json()) as { message: string }).message).toMatch(/too many wrong passwords/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await attempt(PERSONA_PASSWORD, 11)).status).toBe(200);
    // Cleared: the next wrong password is an ordinary 401 again.
    expect((await attempt("wrong-password-x", 12)).status).toBe(401);
  });
});

describe("passwords", () => {
  it.each(["          ", "aaaaaaaaaa", "password12", "qwertyuiop12"])(
    "refuses %j with a reason",
    async (password) => {
      const attempt = world.callers.admin.users.create({
        email: `weak-${randomUUID()}@personas.test`,
        name: "weak",
        role: "annotator",
        password,
      });
      await expect(attempt).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(attempt).rejects.toThrow(/too easy to guess/);
    },
  );

  it("accepts a strong one", async () => {
    const user = await world.callers.admin.users.create({
      email: `strong-${randomUUID()}@personas.test`,
      name: "strong",
      role: "annotator",
      password: "violet tractor sings loudly",
    });
    expect(user.active).toBe(true);
  });
});

describe("sessions end at once", () => {
  /** Every kind of route a cookie can reach, better-auth's own endpoints included. */
  async function statusesWith(cookie: string): Promise<Record<string, number>> {
    const headers = () => new Headers({ cookie, origin: TEST_ORIGIN, "content-type": "application/json" });
    const calls: Record<string, () => Promise<Response>> = {
      "auth get-session": () =>
        authGet(new Request(`${TEST_ORIGIN}/api/auth/get-session`, { headers: headers() }), noParams),
      "auth update-user": () =>
        authPost(
          new Request(`${TEST_ORIGIN}/api/auth/update-user`, {
            method: "POST",
            headers: headers(),
            body: JSON.stringify({ name: "renamed" }),
          }),
          noParams,
        ),
      "auth list-sessions": () =>
        authGet(new Request(`${TEST_ORIGIN}/api/auth/list-sessions`, { headers: headers() }), noParams),
      "trpc query": () =>
        trpcGet(new Request(`${TEST_ORIGIN}/api/trpc/project.list`, { headers: headers() }), noParams),
      "trpc mutation": () =>
        trpcPost(
          new Request(`${TEST_ORIGIN}/api/trpc/work.next`, {
            method: "POST",
            headers: headers(),
            body: JSON.stringify({ json: { projectId: world.projectId } }),
          }),
          noParams,
        ),
      upload: () =>
        upload(
          new Request(`${TEST_ORIGIN}/api/projects/${world.projectId}/images`, {
            method: "POST",
            headers: new Headers({ cookie, "x-filename": "a.png" }),
            body: new Uint8Array(4),
          }),
          { params: Promise.resolve({ projectId: world.projectId }) },
        ),
    };
    const out: Record<string, number> = {};
    for (const [name, call] of Object.entries(calls)) {
      const response = await call();
      out[name] = response.status;
      await response.body?.cancel();
    }
    return out;
  }

  const allRefused = {
    "auth get-session": 401,
    "auth update-user": 401,
    "auth list-sessions": 401,
    "trpc query": 401,
    "trpc mutation": 401,
    upload: 401,
  };

  it("a deactivated user's cookie gets 401 everywhere, and the account is not renamed", async () => {
    const { users } = world;
    const user = await prisma().user.create({
      data: { email: `leaving-${world.tag}@personas.test`, name: "leaving", role: "manager" },
    });
    await prisma().account.create({
      data: {
        userId: user.id,
        accountId: user.id,
        providerId: "credential",
        password: (await prisma().account.findFirstOrThrow({ where: { userId: users.admin.id } })).password,
      },
    });
    const cookie = await signInCookie(user.email);
    expect((await statusesWith(cookie))["auth get-session"]).toBe(200);
    await world.callers.admin.users.setActive({ userId: user.id, active: false });
    expect(await statusesWith(cookie)).toEqual(allRefused);
    expect((await prisma().user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe("leaving");
  });

  it("a role change ends the user's sessions too", async () => {
    const cookie = await signInCookie(world.users.outsider.email);
    expect((await statusesWith(cookie))["trpc query"]).toBe(200);
    await world.callers.admin.users.setRole({ userId: world.users.outsider.id, role: "manager" });
    expect(await statusesWith(cookie)).toEqual(allRefused);
  });

  it("self-service endpoints the product does not use are not there", async () => {
    const cookie = await signInCookie(world.users.unassigned.email);
    const statuses = await statusesWith(cookie);
    expect(statuses).toMatchObject({
      "auth get-session": 200,
      "auth update-user": 404,
      "auth list-sessions": 404,
    });
  });
});

describe("bad input is a 400, never a 500", () => {
  const NUL = "a\u0000b";
  const LONE = "a\ud800b";
  const as = (persona: Persona) => world.headers(persona, { origin: TEST_ORIGIN });
  const saveInput = (label: string, rle: unknown = rectRle(1, 1, 5, 5)) => ({
    id: randomUUID(),
    imageId: world.images.assigned,
    rle,
    predictedIou: null,
    stabilityScore: null,
    pointCoords: [],
    prompts: [],
    label,
    timing: {
      startedAt: new Date(),
      finishedAt: new Date(),
      activeMs: 1,
      clicks: 0,
      boxes: 0,
      brushStrokes: 0,
      undos: 0,
    },
  });

  const textCases: [string, string, Persona, (bad: string) => unknown][] = [
    ["mask label (save)", "annotate.saveMask", "annotator", (bad) => saveInput(bad)],
    [
      "mask label (update)",
      "annotate.updateMask",
      "annotator",
      (bad) => ({ id: world.masks.assigned, version: 1, label: bad }),
    ],
    [
      "review reason",
      "review.decide",
      "reviewer",
      (bad) => ({ maskId: world.masks.assigned, version: 1, decision: "rejected", reason: bad }),
    ],
    ["project name", "project.create", "manager", (bad) => ({ name: bad })],
    ["project description", "project.create", "manager", (bad) => ({ name: "ok", description: bad })],
    [
      "user name",
      "users.create",
      "admin",
      (bad) => ({
        email: `n-${randomUUID()}@x.test`,
        name: bad,
        role: "annotator",
        password: "violet tractor sings loudly",
      }),
    ],
    ["user search", "users.search", "admin", (bad) => ({ query: bad })],
    [
      "export label filter",
      "export.start",
      "manager",
      (bad) => ({ projectId: world.projectId, filters: { label: bad } }),
    ],
  ];

  it.each(textCases)("%s with NUL or a lone surrogate", async (_name, procedure, persona, input) => {
    for (const bad of [NUL, LONE]) {
      const result = await mutate(procedure, input(bad), as(persona));
      expect(result.status, JSON.stringify(result)).toBe(400);
      expect(result.message).toMatch(/NUL character|unpaired UTF-16 surrogate/);
    }
  });

  const badRles: [string, unknown][] = [
    ["counts that do not fill the size", { size: [30, 40], counts: "0" }],
    ["characters outside the alphabet", { size: [30, 40], counts: "~~~~" }],
    ["a size that is not the image's", { size: [40, 30], counts: rectRle(1, 1, 2, 2).counts }],
    ["a negative size", { size: [-30, 40], counts: "0" }],
    ["NUL in counts", { size: [30, 40], counts: "\u0000" }],
  ];

  it.each(badRles)("an RLE with %s is refused by save, update and review alike", async (_name, rle) => {
    const results = [
      await mutate("annotate.saveMask", saveInput("x", rle), as("annotator")),
      await mutate("annotate.updateMask", { id: world.masks.assigned, version: 1, rle }, as("annotator")),
      await mutate(
        "review.decide",
        { maskId: world.masks.assigned, version: 1, decision: "corrected", rle },
        as("reviewer"),
      ),
    ];
    for (const result of results) expect(result.status, JSON.stringify(result)).toBe(400);
  });
});

describe("request bounds", () => {
  it("refuses a body over the procedure's limit by its declared length, without reading it", async () => {
    const headers = world.headers("manager", {
      origin: TEST_ORIGIN,
      "content-type": "application/json",
      "content-length": String(2 * 1024 * 1024),
    });
    const response = await trpcPost(
      new Request(`${TEST_ORIGIN}/api/trpc/project.create`, { method: "POST", headers, body: "{}" }),
      noParams,
    );
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    const body = (await response.json()) as { error: { json: { data: { code: string } } } };
    expect(body.error.json.data.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("refuses a streamed (chunked) body once it passes the limit", async () => {
    let sent = 0;
    const chunk = new Uint8Array(1024 * 1024).fill(32);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= MASK_BODY_LIMIT + 4 * chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await trpcPost(
      new Request(`${TEST_ORIGIN}/api/trpc/annotate.saveMask`, {
        method: "POST",
        headers: world.headers("annotator", { origin: TEST_ORIGIN, "content-type": "application/json" }),
        body: stream,
        duplex: "half",
      } as RequestInit),
      noParams,
    );
    expect(response.status).toBe(413);
    // It stopped reading soon after the limit.
    expect(sent).toBeLessThanOrEqual(MASK_BODY_LIMIT + 2 * chunk.length);
  });

  it("caps the calls in one batch", async () => {
    const input = encodeURIComponent(
      JSON.stringify(
        Object.fromEntries(
          Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => [
            i,
            { json: { imageId: world.images.assigned } },
          ]),
        ),
      ),
    );
    const paths = Array.from({ length: MAX_BATCH_SIZE + 1 }, () => "annotate.image").join(",");
    const response = await trpcGet(
      new Request(`${TEST_ORIGIN}/api/trpc/${paths}?batch=1&input=${input}`, {
        headers: world.headers("annotator"),
      }),
      noParams,
    );
    expect(response.status).toBe(400);
    await response.body?.cancel();
  });
});

describe("cross-origin requests", () => {
  const evil = "https://evil.example";

  it("refuses tRPC mutations from another origin or site", async () => {
    const refused: Record<string, string>[] = [
      { origin: evil },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const extra of refused) {
      const result = await mutate(
        "project.create",
        { name: `x-${randomUUID()}` },
        world.headers("manager", extra),
      );
      expect(result).toMatchObject({ status: 403, code: "FORBIDDEN" });
    }
    // The same call from this site goes through.
    const ok = await mutate(
      "project.create",
      { name: `x-${randomUUID()}` },
      world.headers("manager", { origin: TEST_ORIGIN }),
    );
    expect(ok.status).toBe(200);
  });

  it("refuses uploads and sign-in from another origin", async () => {
    const up = await upload(
      new Request(`${TEST_ORIGIN}/api/projects/${world.projectId}/images`, {
        method: "POST",
        headers: world.headers("manager", { origin: evil, "x-filename": "a.png" }),
        body: new Uint8Array(4),
      }),
      { params: Promise.resolve({ projectId: world.projectId }) },
    );
    expect(up.status).toBe(403);
    const signIn = await authPost(
      signInRequest(world.users.manager.email, PERSONA_PASSWORD, { origin: evil }),
      noParams,
    );
    expect(signIn.status).toBe(403);
  });
});

describe("upload route", () => {
  const post = (headers: Record<string, string>, body: BodyInit = new Uint8Array(4)) =>
    upload(
      new Request(`${TEST_ORIGIN}/api/projects/${world.projectId}/images`, {
        method: "POST",
        headers: world.headers("manager", headers),
        body,
      }),
      { params: Promise.resolve({ projectId: world.projectId }) },
    );
  const message = async (response: Response) => ((await response.json()) as { error: string }).error;

  it("says a long X-Filename is too long, and refuses a name that is not text", async () => {
    const long = await post({ "x-filename": "a".repeat(5000) });
    expect(long.status).toBe(400);
    expect(await message(long)).toMatch(/file name is too long/);
    const missing = await post({});
    expect(await message(missing)).toBe("the X-Filename header is required");
    const nul = await post({ "x-filename": "a%00b.png" });
    expect(nul.status).toBe(400);
    expect(await message(nul)).toMatch(/NUL character/);
  });

  it("answers an oversize upload 413 with Connection: close", async () => {
    const response = await post({ "x-filename": "big.png", "content-length": String(2 ** 40) });
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
  });
});

describe("outages", () => {
  it("a database that does not answer fails a call within 5 s as SERVICE_UNAVAILABLE", async () => {
    // A non-routable address: connecting hangs until the pool's connect timeout gives up.
    const unreachable = createPrisma("postgresql://postgres@10.255.255.1:5432/nowhere", { max: 1 });
    try {
      const caller = createCaller({ ...world.contexts.admin, db: unreachable });
      const started = performance.now();
      const error = await caller.users.list().catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5000);
      expect(error).toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        message: expect.stringMatching(/database is not answering/),
      });
    } finally {
      await unreachable.$disconnect();
    }
  });
});
