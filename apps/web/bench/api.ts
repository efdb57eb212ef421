// npm run bench:api -- [--annotators N] [--seconds S] [--think-ms T] [--images M] [--masks TOTAL]
//                      [--masks-per-image K] [--port P] [--keep-db NAME] [--web-processes W] [--json]
// --web-processes W runs the app with W web processes sharing the port (WEB_PROCESSES); default: the
// app's own default for this machine (cores - 1, at least 1, at most 8).
// --keep-db NAME keeps the seeded database under that name instead of dropping it, and a later run with the
// same name, --images and --masks reuses it (seeding 1M images and 5M masks takes minutes): the previous
// run's annotators, their masks, leases and audit rows are removed and the images they touched are new again.
// --images / --masks seed that many ready images and existing masks (spread evenly) before the run, in SQL
// (seed-scale.ts), e.g. --images 1000000 --masks 5000000; --masks-per-image is what each annotator adds.
// Concurrent annotators against the real app: a fresh database with a bench project, M ready images (rows
// only: nothing in this flow reads the files) and N annotator accounts, the app started by the launcher
// (`npm start`) on a free port with its own DATA_DIR and Redis db (worker: the maintenance queue only, so
// lease expiry runs as in production and nothing is embedded). Every annotator signs in over HTTP (real
// session cookie) and then, for S seconds, works like a person on the annotation page through the tRPC
// HTTP protocol (vanilla @trpc/client, httpBatchLink + superjson, as the web app's own client):
//   work.next -> k x (annotate.image -> annotate.saveMask [-> annotate.updateMask]) -> work.submit
// with a think time before every request. Per-procedure latency and errors, conflicts, 5xx, and at the
// end `lost`: masks the server acknowledged (saveMask resolved) that are not in the Mask table.
// Think time (--think-ms, default 3000): exponential with that mean, capped at 10x, before every request.
// A mask then takes ~6 s (read + accept), 2-3x faster than the ~14 s per mask SAM's paper reports for its
// assisted-manual annotators: a deliberately heavy but human pace. --think-ms 0 is a closed-loop stress test.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { AppRouter } from "@sas/api";
import { defaultWebProcesses, repoRoot } from "@sas/config";
import { CREDENTIAL_PROVIDER, createPrisma } from "@sas/db";
import { migrate } from "@sas/db/migrate";
import { createScratchDatabase } from "@sas/db/scratch";
import { seededRandom } from "@sas/sa1b/test-utils";
import { createTRPCClient, httpBatchLink, isTRPCClientError } from "@trpc/client";
import { hashPassword } from "better-auth/crypto";
import { Redis } from "ioredis";
import pg from "pg";
import superjson from "superjson";
import { z } from "zod";
import { maskPool, type SyntheticMask } from "./api-masks";
import { benchImageSizes, seedImagesAndMasks } from "./seed-scale";

const { values: flags } = parseArgs({
  options: {
    annotators: { type: "string" },
    seconds: { type: "string" },
    "think-ms": { type: "string" },
    images: { type: "string" },
    masks: { type: "string" },
    "masks-per-image": { type: "string" },
    port: { type: "string" },
    "keep-db": { type: "string" },
    "web-processes": { type: "string" },
    json: { type: "boolean" },
  },
});
const args = z
  .object({
    annotators: z.coerce.number().int().min(1).max(2000).default(200),
    seconds: z.coerce.number().min(1).max(3600).default(60),
    thinkMs: z.coerce.number().min(0).max(600_000).default(3000),
    images: z.coerce.number().int().min(1).max(10_000_000).optional(),
    masks: z.coerce.number().int().min(0).max(100_000_000).default(0),
    masksPerImage: z.coerce.number().int().min(1).max(200).default(6),
    port: z.coerce.number().int().min(0).max(65535).default(0),
    keepDb: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/)
      .optional(),
    webProcesses: z.coerce
      .number()
      .int()
      .min(1)
      .max(64)
      .default(() => defaultWebProcesses()),
    json: z.boolean().default(false),
  })
  .parse({
    ...flags,
    thinkMs: flags["think-ms"],
    masksPerImage: flags["masks-per-image"],
    keepDb: flags["keep-db"],
    webProcesses: flags["web-processes"],
  });

const PASSWORD = "bench-annotator-password";
/** Think times are exponential, cut at this many means so one unlucky draw cannot idle an annotator for the whole run. */
const THINK_CAP_FACTOR = 10;
/** Chance that, after saving a mask, the annotator renames one of their masks on the image (annotate.updateMask). */
const UPDATE_PROBABILITY = 0.2;
const SIGN_IN_CONCURRENCY = 8;
const LABELS = ["", "", "", "person", "car", "tree", "building", "dog", "sign", "window"];
// Enough images that nobody runs out: a person on k masks makes ~2k+2 requests per image.
const imageCount =
  args.images ??
  Math.max(
    100,
    Math.ceil(
      (args.annotators * args.seconds * 1.5) /
        Math.max(1, (args.thinkMs / 1000) * (2 * args.masksPerImage + 2)),
    ) + args.annotators,
  );

const PROCEDURES = [
  "work.next",
  "annotate.image",
  "annotate.saveMask",
  "annotate.updateMask",
  "work.submit",
] as const;
type Procedure = (typeof PROCEDURES)[number];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ProcStats {
  ms: number[];
  errors: number;
  codes: Map<string, number>;
}
const stats = new Map<string, ProcStats>();
const procStats = (name: string): ProcStats => {
  let s = stats.get(name);
  if (!s) {
    s = { ms: [], errors: 0, codes: new Map() };
    stats.set(name, s);
  }
  return s;
};
const counters = { conflicts: 0, serverErrors: 0, ranOut: 0, imagesCompleted: 0 };
/** Mask ids whose saveMask resolved: the server said they are stored. */
const acknowledged: string[] = [];
/** How long seeding took (seconds), reported with the results. */
const seedSeconds = { images: 0, masks: 0 };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A distinct client address per simulated person (as behind a proxy), so sign-in rate limits are per person. */
const clientIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`;

interface Annotator {
  index: number;
  email: string;
  ip: string;
  cookie: string;
  /** HTTP status of the latest response this annotator's client received. */
  lastStatus: number;
}

async function signIn(base: string, a: Annotator): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    const res = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, "x-forwarded-for": a.ip },
      body: JSON.stringify({ email: a.email, password: PASSWORD }),
    });
    const ms = performance.now() - started;
    if (res.status === 429 && attempt < 20) {
      await res.body?.cancel();
      await sleep(1000 * Number(res.headers.get("x-retry-after") ?? 1));
      continue;
    }
    const s = procStats("auth.signIn");
    s.ms.push(ms);
    if (!res.ok) {
      s.errors += 1;
      throw new Error(`sign-in of ${a.email}: HTTP ${res.status} ${await res.text()}`);
    }
    await res.body?.cancel();
    a.cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .join("; ");
    if (!a.cookie.includes("session_token")) throw new Error(`sign-in of ${a.email}: no session cookie`);
    return;
  }
}

function trpcFor(base: string, a: Annotator) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/api/trpc`,
        transformer: superjson,
        fetch: async (url, init) => {
          const headers = new Headers(init?.headers as HeadersInit | undefined);
          headers.set("cookie", a.cookie);
          headers.set("origin", base);
          headers.set("x-forwarded-for", a.ip);
          const res = await fetch(url, { ...(init as RequestInit), headers });
          a.lastStatus = res.status;
          return res;
        },
      }),
    ],
  });
}

const FAILED = Symbol("failed");
/** Set on Ctrl-C: the app (same process group) stops too, which is then no failure to report. */
let interrupted = false;

interface Run {
  base: string;
  projectId: string;
  imageSizes: Map<string, string>;
  pool: Map<string, SyntheticMask[]>;
  deadline: number;
}

async function simulate(run: Run, a: Annotator): Promise<void> {
  const random = seededRandom(1000 + a.index);
  const trpc = trpcFor(run.base, a);
  const think = async (): Promise<boolean> => {
    const mean = args.thinkMs;
    const ms = mean > 0 ? Math.min(-mean * Math.log(1 - random()), mean * THINK_CAP_FACTOR) : 0;
    if (performance.now() + ms >= run.deadline) {
      await sleep(Math.max(0, run.deadline - performance.now()));
      return false;
    }
    await sleep(ms);
    return true;
  };
  const call = async <T>(name: Procedure, fn: () => Promise<T>): Promise<T | typeof FAILED> => {
    const s = procStats(name);
    a.lastStatus = 0;
    const started = performance.now();
    try {
      const value = await fn();
      s.ms.push(performance.now() - started);
      return value;
    } catch (error) {
      s.ms.push(performance.now() - started);
      s.errors += 1;
      const code = isTRPCClientError(error)
        ? String((error.data as { code?: string } | undefined)?.code ?? `HTTP ${a.lastStatus}`)
        : "NETWORK";
      s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
      if (code === "CONFLICT") counters.conflicts += 1;
      const status = isTRPCClientError(error)
        ? ((error.data as { httpStatus?: number } | undefined)?.httpStatus ?? a.lastStatus)
        : a.lastStatus;
      if (status >= 500) counters.serverErrors += 1;
      return FAILED;
    }
  };

  // Staggered start: people do not all press "Start annotating" in the same millisecond.
  await sleep(random() * args.thinkMs);
  while (performance.now() < run.deadline) {
    if (!(await think())) return;
    const lease = await call("work.next", () => trpc.work.next.mutate({ projectId: run.projectId }));
    if (lease === FAILED) continue;
    if (lease === null) {
      counters.ranOut += 1;
      return;
    }
    const { imageId } = lease;
    const size = run.imageSizes.get(imageId)!;
    const masks = run.pool.get(size)!;
    const [height, width] = size.split("x").map(Number).reverse() as [number, number];
    // k masks on this image, uniform in [1, 2K-1] (mean K).
    const k = 1 + Math.floor(random() * (2 * args.masksPerImage - 1));
    /** The caller's masks on this image and the version it last read of each. */
    const mine = new Map<string, number>();
    for (let j = 0; j < k; j++) {
      if (!(await think())) return;
      const view = await call("annotate.image", () => trpc.annotate.image.query({ imageId }));
      if (view !== FAILED) {
        for (const m of view.masks) if (mine.has(m.id)) mine.set(m.id, m.version);
      }
      // Making the mask: clicks in the browser; nothing reaches the server until it is accepted.
      const startedAt = new Date();
      if (!(await think())) return;
      const mask = masks[Math.floor(random() * masks.length)]!;
      const id = randomUUID();
      const clicks = 1 + Math.floor(random() * 5);
      const finishedAt = new Date();
      const saved = await call("annotate.saveMask", () =>
        trpc.annotate.saveMask.mutate({
          id,
          imageId,
          rle: mask.rle,
          predictedIou: 0.85 + random() * 0.14,
          stabilityScore: 0.9 + random() * 0.09,
          pointCoords: [mask.point],
          prompts: [
            { type: "point", x: mask.point[0], y: mask.point[1], label: 1 },
            ...Array.from({ length: clicks - 1 }, () => ({
              type: "point" as const,
              x: Math.round(random() * (width - 1)),
              y: Math.round(random() * (height - 1)),
              label: (random() < 0.6 ? 1 : 0) as 0 | 1,
            })),
          ],
          label: "",
          timing: {
            startedAt,
            finishedAt,
            activeMs: finishedAt.getTime() - startedAt.getTime(),
            clicks,
            boxes: 0,
            brushStrokes: 0,
            undos: random() < 0.2 ? 1 : 0,
          },
        }),
      );
      if (saved !== FAILED) {
        acknowledged.push(saved.id);
        mine.set(saved.id, saved.version);
      }
      if (mine.size > 0 && random() < UPDATE_PROBABILITY) {
        if (!(await think())) return;
        const ids = [...mine.keys()];
        const target = ids[Math.floor(random() * ids.length)]!;
        const label = LABELS[1 + Math.floor(random() * (LABELS.length - 1))]!;
        const updated = await call("annotate.updateMask", () =>
          trpc.annotate.updateMask.mutate({ id: target, version: mine.get(target)!, label }),
        );
        if (updated !== FAILED) mine.set(target, updated.version);
      }
    }
    if (!(await think())) return;
    // Handing the image in (every image here got masks; an empty one would need the explicit confirmation).
    const done = await call("work.submit", () => trpc.work.submit.mutate({ imageId, confirmEmpty: true }));
    if (done !== FAILED) counters.imagesCompleted += 1;
  }
}

/**
 * The database named `name` on the server, kept after the run (`--keep-db`). When it already holds a
 * project called `projectName` (same --images and --masks) that project is reused; otherwise the database
 * is made afresh.
 */
async function keptDatabase(serverUrl: string, name: string, projectName: string) {
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = "/postgres";
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const found = await client
        .query<{ id: string }>(`SELECT id::text AS id FROM "Project" WHERE name = $1`, [projectName])
        .then((r) => r.rows[0]?.id ?? null)
        .catch(() => null)
        .finally(() => client.end());
      if (found) return { url: url.toString(), seededProjectId: found, drop: async () => {} };
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE "${name}"`);
    return { url: url.toString(), seededProjectId: null, drop: async () => {} };
  } finally {
    await admin.end();
  }
}

/** Back to the seeded state: the bench annotators' masks (with their timings), leases, sessions and audit rows go. */
async function resetPreviousRun(dbUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    const users = `SELECT id FROM "User" WHERE email LIKE '%@bench.local'`;
    await client.query(`DELETE FROM "Mask" WHERE "authorId" IN (${users})`);
    await client.query(`DELETE FROM "AuditLog" WHERE "actorId" IN (${users})`);
    await client.query(`DELETE FROM "Session" WHERE "userId" IN (${users})`);
    await client.query(
      `UPDATE "Image" SET "workflowState" = 'new', "annotatorId" = NULL, "skipReason" = NULL
       WHERE "workflowState" <> 'new' OR "annotatorId" IS NOT NULL`,
    );
    await client.query(`DELETE FROM "Assignment"`);
    await client.query("COMMIT");
    // One statement each: VACUUM cannot run inside the implicit transaction of a multi-statement query.
    for (const table of ["Image", "Assignment"]) await client.query(`VACUUM ANALYZE "${table}"`);
  } finally {
    await client.end();
  }
}

/** Samples what the app's database connections are doing, to tell slow queries from waiting on locks. */
function sampleDatabase(client: pg.Client, dbName: string) {
  const samples = { n: 0, active: 0, maxActive: 0, waits: new Map<string, number>() };
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const { rows } = await client
        .query<{ state: string | null; wait: string | null }>(
          `SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          [dbName],
        )
        .catch(() => ({ rows: [] as { state: string | null; wait: string | null }[] }));
      const active = rows.filter((r) => r.state === "active");
      samples.n += 1;
      samples.active += active.length;
      samples.maxActive = Math.max(samples.maxActive, active.length);
      for (const r of active) {
        const key = r.wait ?? "cpu";
        samples.waits.set(key, (samples.waits.get(key) ?? 0) + 1);
      }
      await sleep(250);
    }
  })();
  return {
    samples,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** CPU seconds (user + system) of a process from /proc, or 0 when it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the file, 12 and 13 after the command name; in clock ticks (100/s).
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

/** The app's processes (the launcher and its descendants), by a short name taken from the command line. */
async function processTree(root: number): Promise<Map<number, string>> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
  }
  const tree = new Map<number, string>();
  const name = async (pid: number) => {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");
    if (cmd.includes("workers/src/main.ts")) return "worker";
    // The web child runs packages/launcher/src/web-server.ts (Next behind the launcher's own server).
    if (cmd.includes("web-server")) return "web";
    if (cmd.includes("launcher")) return "launcher";
    if (cmd.includes("next")) return "web";
    return "other";
  };
  const visit = async (pid: number) => {
    tree.set(pid, await name(pid));
    for (const [child, parent] of parents) if (parent === pid) await visit(child);
  };
  await visit(root);
  return tree;
}

/** CPU seconds of the app's processes (by name) and of the PostgreSQL backends serving the bench database. */
async function cpuSnapshot(app: ChildProcess, client: pg.Client, dbName: string) {
  const byName = new Map<string, number>();
  for (const [pid, name] of await processTree(app.pid!)) {
    byName.set(name, (byName.get(name) ?? 0) + (await cpuSeconds(pid)));
  }
  const { rows } = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [dbName],
  );
  const backends = new Map<number, number>();
  for (const { pid } of rows) backends.set(pid, await cpuSeconds(pid));
  const { rows: xact } = await client.query<{ n: string }>(
    `SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1`,
    [dbName],
  );
  return { byName, backends, transactions: Number(xact[0]?.n ?? 0) };
}
type CpuSnapshot = Awaited<ReturnType<typeof cpuSnapshot>>;

function cpuDelta(before: CpuSnapshot, after: CpuSnapshot) {
  const app: Record<string, number> = {};
  for (const [name, v] of after.byName) app[name] = v - (before.byName.get(name) ?? 0);
  let postgres = 0;
  // A backend that appeared during the run counts in full (pool connections opened under load).
  for (const [pid, v] of after.backends) postgres += v - (before.backends.get(pid) ?? 0);
  return { app, postgres, transactions: after.transactions - before.transactions };
}

/** Busy and total CPU seconds of the whole machine so far (/proc/stat), to see what everything else used. */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0) / 100;
  const idle = ((v[3] ?? 0) + (v[4] ?? 0)) / 100;
  return { busy: total - idle, total };
}

function startApp(env: NodeJS.ProcessEnv): ChildProcess {
  const app = spawn(process.execPath, ["--import", "tsx", "packages/launcher/src/start.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The app's output goes to stderr, so stdout holds only the table (or the JSON line).
  app.stdout?.pipe(process.stderr);
  app.stderr?.pipe(process.stderr);
  return app;
}

async function stopApp(app: ChildProcess): Promise<void> {
  if (app.exitCode !== null || app.signalCode !== null) return;
  const exited = new Promise((r) => app.once("exit", r));
  app.kill("SIGTERM");
  const timer = setTimeout(() => app.kill("SIGKILL"), 45_000);
  await exited;
  clearTimeout(timer);
}

async function main() {
  const loadBefore = os.loadavg();
  const serverUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const projectName = `bench-api ${imageCount} images ${args.masks} masks`;
  const scratch = args.keepDb
    ? await keptDatabase(serverUrl, args.keepDb, projectName)
    : { ...(await createScratchDatabase(serverUrl, "sas_bench_api")), seededProjectId: null };
  const dbUrl = scratch.url;
  const dbName = new URL(dbUrl).pathname.slice(1);
  const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/13";
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-bench-api-"));
  const port = args.port || (await freePort());
  const base = `http://127.0.0.1:${port}`;

  let app: ChildProcess | undefined;
  let cleaning: Promise<void> | undefined;
  const db = createPrisma(dbUrl.toString(), { max: 2 });
  const check = new pg.Client({ connectionString: dbUrl.toString() });
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // One cleanup, however many paths ask for it (the finally below, a signal): all wait for the same one.
  const cleanup = () => {
    cleaning ??= cleanupOnce();
    return cleaning;
  };
  const cleanupOnce = async () => {
    if (app) await stopApp(app).catch(() => {});
    await db.$disconnect().catch(() => {});
    await check.end().catch(() => {});
    await scratch.drop().catch(() => {});
    await redis
      .flushdb()
      .then(() => redis.quit())
      .catch(() => redis.disconnect());
    await rm(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => {
    interrupted = true;
    process.stderr.write("bench:api interrupted; cleaning up\n");
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    await redis.connect();
    await redis.flushdb();
    await migrate(dbUrl.toString());

    // Data before the app starts: a project, its ready images, annotators with one shared password hash
    // (scrypt once, not N times), all members of the project.
    const log = (line: string) => process.stderr.write(`bench:api: ${line}\n`);
    const reused = scratch.seededProjectId;
    if (reused) {
      log(`reusing ${dbName} (${imageCount} images, ${args.masks} masks); removing the previous run's work`);
      await resetPreviousRun(dbUrl.toString());
    } else {
      log(`seeding ${args.annotators} annotators, ${imageCount} images and ${args.masks} masks in ${dbName}`);
    }
    const passwordHash = await hashPassword(PASSWORD);
    const project = reused ? { id: reused } : await db.project.create({ data: { name: projectName } });
    const annotators: Annotator[] = Array.from({ length: args.annotators }, (_, i) => ({
      index: i,
      email: `annotator-${String(i + 1).padStart(4, "0")}@bench.local`,
      ip: clientIp(i),
      cookie: "",
      lastStatus: 0,
    }));
    // A reused database keeps its annotators (deleting users would scan the million images for their
    // foreign keys); only the missing ones are made.
    const existing = new Map(
      (
        await db.user.findMany({
          where: { email: { in: annotators.map((a) => a.email) } },
          select: { id: true, email: true },
        })
      ).map((u) => [u.email, u.id]),
    );
    const userIds = annotators.map((a) => existing.get(a.email) ?? randomUUID());
    const fresh = annotators.flatMap((a, i) => (existing.has(a.email) ? [] : [{ a, i, id: userIds[i]! }]));
    await db.user.createMany({
      data: fresh.map(({ a, i, id }) => ({
        id,
        email: a.email,
        name: `Annotator ${i + 1}`,
        role: "annotator" as const,
        emailVerified: true,
      })),
    });
    await db.account.createMany({
      data: fresh.map(({ id }) => ({
        userId: id,
        accountId: id,
        providerId: CREDENTIAL_PROVIDER,
        password: passwordHash,
      })),
    });
    await db.projectMember.createMany({
      data: userIds.map((userId) => ({ projectId: project.id, userId, role: "annotator" as const })),
      skipDuplicates: true,
    });
    await db.$disconnect();
    // Images (and --masks existing masks) are made in SQL: the same rows at 100 images or at 1M.
    const pool = maskPool(48);
    if (!reused) {
      const seeder = new pg.Client({ connectionString: dbUrl.toString() });
      await seeder.connect();
      try {
        const seeded = await seedImagesAndMasks(seeder, {
          projectId: project.id,
          images: imageCount,
          masks: args.masks,
          pool,
          log,
        });
        seedSeconds.images = seeded.imageSeconds;
        seedSeconds.masks = seeded.maskSeconds;
        log(
          `seeded in ${seeded.imageSeconds.toFixed(1)} s (images) + ${seeded.maskSeconds.toFixed(1)} s (masks)`,
        );
      } finally {
        await seeder.end();
      }
    }
    const imageSizes = benchImageSizes(imageCount);

    const emptyDir = path.join(dataDir, "no-demo-images");
    await mkdir(emptyDir);
    app = startApp({
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEB_PROCESSES: String(args.webProcesses),
      // BENCH_LOG_LEVEL=debug makes the app log each procedure's time inside tRPC (the "trpc" lines).
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      // Lease expiry runs as in production; no embed, automatic-pass or export work competes for the CPU.
      WORKER_QUEUES: "maintenance",
      DEMO_IMAGES_DIR: emptyDir,
      INITIAL_ADMIN_PASSWORD: "bench-admin-password",
      INITIAL_ANNOTATOR_PASSWORD: PASSWORD,
      // Every annotator signs in from this one machine's address (the web server takes the client address
      // from the socket now), which the per-address sign-in limit would otherwise stop after 30.
      AUTH_SIGNIN_PER_MINUTE: String(Math.max(30, args.annotators * 2)),
    });
    const exited = new Promise<never>((_, reject) =>
      app?.once("exit", (code) => reject(new Error(`the app exited (code ${code}) before the bench ended`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 900_000;
    log(`starting the app at ${base} (builds the web app first if its sources changed)`);
    for (;;) {
      const ok = await Promise.race([
        fetch(`${base}/api/trpc/health.check`)
          .then((r) => r.ok)
          .catch(() => false),
        exited,
      ]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error("timed out waiting for the app");
      await sleep(500);
    }

    log(`signing in ${annotators.length} annotators`);
    const queue = [...annotators];
    await Promise.race([
      Promise.all(
        Array.from({ length: SIGN_IN_CONCURRENCY }, async () => {
          for (let a = queue.shift(); a; a = queue.shift()) await signIn(base, a);
        }),
      ),
      exited,
    ]);

    await check.connect();
    const sampler = sampleDatabase(check, dbName);
    log(`${annotators.length} annotators working for ${args.seconds} s`);
    const cpuBefore = process.cpuUsage();
    const serverBefore = await cpuSnapshot(app, check, dbName);
    const machineBefore = await machineCpu();
    const started = performance.now();
    const run: Run = {
      base,
      projectId: project.id,
      imageSizes,
      pool,
      deadline: started + args.seconds * 1000,
    };
    await Promise.race([Promise.all(annotators.map((a) => simulate(run, a))), exited]);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    await sampler.stop();
    const machineAfter = await machineCpu();
    const server = cpuDelta(serverBefore, await cpuSnapshot(app, check, dbName));

    // Acknowledged masks that are not stored.
    const { rows: found } = await check.query<{ id: string }>(
      `SELECT id::text AS id FROM "Mask" WHERE id = ANY($1::uuid[])`,
      [acknowledged],
    );
    const stored = new Set(found.map((r) => r.id));
    const lost = acknowledged.filter((id) => !stored.has(id)).length;
    const { rows: timingRows } = await check.query<{ n: string }>(
      `SELECT count(*) AS n FROM "MaskTiming" WHERE "maskId" = ANY($1::uuid[])`,
      [acknowledged],
    );
    // One annotator per image in this stage: an image leased or completed by two people is a bug.
    const { rows: shared } = await check.query<{ n: string }>(
      `SELECT count(*) AS n FROM (
         SELECT "imageId" FROM "Assignment" WHERE status IN ('active', 'completed')
         GROUP BY "imageId" HAVING count(DISTINCT "userId") > 1) t`,
    );
    const loadAfter = os.loadavg();

    const timed = PROCEDURES.map((name) => [name, procStats(name)] as const);
    const all = timed.flatMap(([, s]) => s.ms);
    const requests = all.length;
    const errorsByCode = new Map<string, number>();
    for (const [, s] of timed)
      for (const [code, n] of s.codes) errorsByCode.set(code, (errorsByCode.get(code) ?? 0) + n);
    const row = (s: ProcStats) => ({
      count: s.ms.length,
      p50: percentile(s.ms, 50),
      p95: percentile(s.ms, 95),
      max: s.ms.length ? Math.max(...s.ms) : Number.NaN,
      errors: s.errors,
    });
    const waits = [...sampler.samples.waits.entries()].sort((a, b) => b[1] - a[1]);
    const result = {
      annotators: args.annotators,
      webProcesses: args.webProcesses,
      seconds: elapsed,
      thinkMs: args.thinkMs,
      thinkModel: `exponential, mean ${args.thinkMs} ms, capped at ${THINK_CAP_FACTOR}x the mean, before every request`,
      images: imageCount,
      masksPerImage: `uniform 1..${2 * args.masksPerImage - 1} (mean ${args.masksPerImage})`,
      seededMasks: args.masks,
      seedSeconds,
      requests,
      requestsPerSecond: requests / elapsed,
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      max: all.length ? Math.max(...all) : Number.NaN,
      procedures: Object.fromEntries(timed.map(([name, s]) => [name, row(s)])),
      signIn: row(procStats("auth.signIn")),
      acknowledged: acknowledged.length,
      lost,
      timingsMissing: acknowledged.length - Number(timingRows[0]?.n ?? 0),
      conflicts: counters.conflicts,
      serverErrors: counters.serverErrors,
      errorsByCode: Object.fromEntries(errorsByCode),
      imagesCompleted: counters.imagesCompleted,
      ranOutOfImages: counters.ranOut,
      sharedImages: Number(shared[0]?.n ?? 0),
      db: {
        meanActive: sampler.samples.n ? sampler.samples.active / sampler.samples.n : 0,
        maxActive: sampler.samples.maxActive,
        topWaits: Object.fromEntries(waits.slice(0, 5)),
      },
      cpuSeconds: {
        web: server.app.web ?? 0,
        worker: server.app.worker ?? 0,
        launcher: server.app.launcher ?? 0,
        postgres: server.postgres,
        bench: (cpu.user + cpu.system) / 1e6,
        machineBusy: machineAfter.busy - machineBefore.busy,
        machineTotal: machineAfter.total - machineBefore.total,
      },
      dbTransactionsPerRequest: requests ? server.transactions / requests : 0,
      loadBefore: loadBefore.map((v) => Number(v.toFixed(2))),
      loadAfter: loadAfter.map((v) => Number(v.toFixed(2))),
      cpus: os.cpus().length,
    };

    await cleanup();
    if (args.json) {
      console.log(JSON.stringify(result));
      return;
    }
    const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-").padStart(8);
    const lines: string[] = [];
    const kv: [string, string][] = [
      ["annotators", String(result.annotators)],
      ["web processes", String(result.webProcesses)],
      ["duration (s)", result.seconds.toFixed(1)],
      ["think time", result.thinkModel],
      ["images / masks per image", `${result.images} / ${result.masksPerImage}`],
      [
        "seeded masks / seed (s)",
        `${result.seededMasks} / images ${seedSeconds.images.toFixed(1)}, masks ${seedSeconds.masks.toFixed(1)}`,
      ],
      ["requests / requests/s", `${result.requests} / ${result.requestsPerSecond.toFixed(1)}`],
    ];
    const width = Math.max(...kv.map(([k]) => k.length));
    for (const [k, v] of kv) lines.push(`${k.padEnd(width)}  ${v}`);
    lines.push("");
    const nameWidth = 24;
    lines.push(
      `${"procedure".padEnd(nameWidth)}${"count".padStart(7)}${"p50 ms".padStart(9)}${"p95 ms".padStart(9)}${"max ms".padStart(9)}${"errors".padStart(8)}`,
    );
    const line = (name: string, r: ReturnType<typeof row>) =>
      lines.push(
        `${name.padEnd(nameWidth)}${String(r.count).padStart(7)} ${ms(r.p50)} ${ms(r.p95)} ${ms(r.max)}${String(r.errors).padStart(8)}`,
      );
    for (const [name, s] of timed) line(name, row(s));
    line("all (timed phase)", {
      count: requests,
      p50: result.p50,
      p95: result.p95,
      max: result.max,
      errors: timed.reduce((n, [, s]) => n + s.errors, 0),
    });
    line("auth.signIn (setup)", result.signIn);
    lines.push("");
    const kv2: [string, string][] = [
      ["masks acknowledged / lost", `${result.acknowledged} / ${result.lost}`],
      ["timings missing", String(result.timingsMissing)],
      ["conflicts / 5xx", `${result.conflicts} / ${result.serverErrors}`],
      [
        "errors by code",
        Object.entries(result.errorsByCode)
          .map(([c, n]) => `${c} ${n}`)
          .join(", ") || "none",
      ],
      [
        "images completed / shared",
        `${result.imagesCompleted} / ${result.sharedImages}${result.ranOutOfImages ? ` (${result.ranOutOfImages} annotators ran out of images)` : ""}`,
      ],
      [
        "db active conns mean / max",
        `${result.db.meanActive.toFixed(1)} / ${result.db.maxActive}  waits: ${
          waits
            .slice(0, 4)
            .map(([w, n]) => `${w} ${n}`)
            .join(", ") || "none"
        }`,
      ],
      [
        "CPU s in the timed phase",
        `web ${result.cpuSeconds.web.toFixed(1)}, worker ${result.cpuSeconds.worker.toFixed(1)}, postgres ${result.cpuSeconds.postgres.toFixed(1)}, bench ${result.cpuSeconds.bench.toFixed(1)}; machine busy ${result.cpuSeconds.machineBusy.toFixed(0)} of ${result.cpuSeconds.machineTotal.toFixed(0)}`,
      ],
      [
        "per request",
        `web CPU ${((result.cpuSeconds.web * 1000) / Math.max(1, requests)).toFixed(1)} ms, postgres CPU ${((result.cpuSeconds.postgres * 1000) / Math.max(1, requests)).toFixed(1)} ms, ${result.dbTransactionsPerRequest.toFixed(1)} db transactions`,
      ],
      [
        "load average before / after",
        `${result.loadBefore.join(" ")} / ${result.loadAfter.join(" ")} (${result.cpus} CPUs)`,
      ],
    ];
    const width2 = Math.max(...kv2.map(([k]) => k.length));
    for (const [k, v] of kv2) lines.push(`${k.padEnd(width2)}  ${v}`);
    console.log(lines.join("\n"));
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().catch((error: unknown) => {
  if (interrupted) process.exit(130);
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
