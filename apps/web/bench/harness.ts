/**
 * What the browser benchmarks (bench:decode, bench:open) share: the real app started by the launcher
 * (`npm start`) against a scratch database, its own data folder and Redis db, the demo images embedded,
 * handed to the seeded annotator, and headless Debian Chromium signed in as that annotator.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Browser, type BrowserContext, chromium } from "@playwright/test";
import { repoRoot } from "@sas/config";
import { createScratchDatabase } from "@sas/db/scratch";
import pg from "pg";

export const ANNOTATOR_EMAIL = "annotator@sam-studio.local";
const PASSWORD = "bench-annotator-password";

export interface ImageRow {
  id: string;
  filename: string;
  width: number;
  height: number;
}

export interface BenchApp {
  base: string;
  db: pg.Client;
  browser: Browser;
  /** The demo images, all embedded, in file-name order, assigned to the annotator. */
  images: ImageRow[];
  /** A fresh browser context (own empty HTTP cache and storage) signed in as the annotator. */
  annotatorContext(): Promise<BrowserContext>;
  /**
   * A browser with a profile on disk, as a person's browser is (disk HTTP cache, compiled-code cache,
   * Cache Storage), signed in as the annotator: an empty folder is a first visit, the same folder again
   * a returning one. Close it when done (it is its own browser process).
   */
  annotatorProfile(userDataDir: string): Promise<BrowserContext>;
  stop(): Promise<void>;
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export const median = (values: number[]) => percentile(values, 50);

/** Deterministic pseudo-random numbers in [0, 1), so every run does the same things. */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Chromium flags for measuring: nothing in the background competes with the page for the two cores. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function startBenchApp(opts: {
  name: string;
  port: number;
  redisDb: number;
  images?: number;
}): Promise<BenchApp> {
  const scratch = await createScratchDatabase(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    `sas_bench_${opts.name}`,
  );
  const dbUrl = scratch.url.toString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `sas-bench-${opts.name}-`));
  const base = `http://127.0.0.1:${opts.port}`;
  const app = spawn(process.execPath, ["--import", "tsx", "packages/launcher/src/start.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_URL: process.env.BENCH_REDIS_URL ?? `redis://127.0.0.1:6379/${opts.redisDb}`,
      DATA_DIR: dataDir,
      PORT: String(opts.port),
      LOG_LEVEL: "warn",
      INITIAL_ADMIN_PASSWORD: "bench-admin-password",
      INITIAL_ANNOTATOR_PASSWORD: PASSWORD,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const db = new pg.Client({ connectionString: dbUrl });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const stop = async () => {
    await browser.close();
    await db.end().catch(() => {});
    if (app.exitCode === null) {
      app.kill("SIGTERM");
      await new Promise((r) => app.once("exit", r));
    }
    await scratch.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };
  const exited = new Promise<never>((_, reject) =>
    app.once("exit", (code) => reject(new Error(`the app exited (code ${code}) before it was ready`))),
  );
  exited.catch(() => {});
  try {
    await Promise.race([
      exited,
      waitFor(
        "the app",
        async () => ((await fetch(`${base}/api/trpc/health.check`)).ok ? true : null),
        600_000,
      ),
    ]);
    await db.connect();
    const images = await waitFor(
      "the demo images' embeddings",
      async () => {
        const { rows } = await db.query<ImageRow & { status: string }>(
          `SELECT id, filename, width, height, status FROM "Image" ORDER BY filename`,
        );
        return rows.length > 0 && rows.every((r) => r.status === "ready")
          ? rows.slice(0, opts.images ?? rows.length)
          : null;
      },
      300_000,
    );
    // Annotators see the images assigned to them: hand the benchmark's images to the seeded annotator.
    await db.query(
      `INSERT INTO "Assignment" (id, "imageId", "userId", status, "leasedAt", "expiresAt")
       SELECT gen_random_uuid(), i.id, u.id, 'active', now(), now() + interval '1 hour'
         FROM "Image" i, "User" u WHERE i.id = ANY($1::uuid[]) AND u.email = $2`,
      [images.map((i) => i.id), ANNOTATOR_EMAIL],
    );
    // Sign in once; every context gets the session cookie and nothing else (no cache, no storage).
    const signIn = await browser.newContext();
    const page = await signIn.newPage();
    await page.goto(`${base}/sign-in`);
    await page.getByLabel("Email").fill(ANNOTATOR_EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
    const cookies = await signIn.cookies();
    await signIn.close();
    return {
      base,
      db,
      browser,
      images,
      annotatorContext: async () => {
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
        await context.addCookies(cookies);
        return context;
      },
      annotatorProfile: async (userDataDir) => {
        const context = await chromium.launchPersistentContext(userDataDir, {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: CHROMIUM_ARGS,
          viewport: { width: 1400, height: 900 },
        });
        await context.addCookies(cookies);
        return context;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
