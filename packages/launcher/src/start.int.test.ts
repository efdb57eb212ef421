import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "@sas/config";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function launch(env: Record<string, string | undefined>, args: string[] = ["--no-web"]): Run {
  const cleanEnv = { ...process.env };
  delete cleanEnv.DATABASE_URL;
  delete cleanEnv.REDIS_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "packages/launcher/src/start.ts", ...args], {
    cwd: repoRoot,
    env: { ...cleanEnv, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function waitForText(run: Run, text: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`launcher never printed ${JSON.stringify(text)}; output:\n${run.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start (launcher)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("a bad DATABASE_URL gives one clear error line, not a stack dump", async () => {
    const run = launch({
      DATABASE_URL: "postgresql://postgres@127.0.0.1:1/nowhere",
      REDIS_URL: process.env.REDIS_URL,
    });
    expect(await run.exit).toBe(1);
    const lines = run.output().trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        /^error: cannot connect to PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/,
      ),
    ]);
  });

  it("a malformed DATABASE_URL is named in one line", async () => {
    const run = launch({ DATABASE_URL: "mysql://x", REDIS_URL: process.env.REDIS_URL });
    expect(await run.exit).toBe(1);
    expect(run.output().trim()).toBe(
      "error: invalid configuration: DATABASE_URL must be a URL starting with postgres:// or postgresql://",
    );
  });

  it("a stopped Redis gives one clear error line", async () => {
    const run = launch({ DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: "redis://127.0.0.1:1" });
    expect(await run.exit).toBe(1);
    const lines = run.output().trim().split("\n");
    expect(lines.at(-1)).toMatch(/^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(lines.filter((line) => line.startsWith("error:") || line.includes("    at "))).toHaveLength(1);
  });

  it("without DATABASE_URL and REDIS_URL it runs its own PostgreSQL and Redis, and data survives a restart", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-launch-"));
    dirs.push(dataDir);
    const env = {
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(20_000 + (process.pid % 20_000)),
      LOCAL_REDIS_PORT: String(40_000 + (process.pid % 20_000)),
    };

    const first = launch(env);
    await waitForText(first, "worker ready");
    expect(first.output()).toMatch(/admin\s+admin@sam-studio\.local\s+password: \S{16}/);
    expect(first.output()).toMatch(/annotator\s+annotator@sam-studio\.local\s+password: \S{16}/);
    expect(first.output()).toContain('Demo project "Demo": 7 images added.');
    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);

    const second = launch(env);
    await waitForText(second, "worker ready");
    // Passwords are printed once; the second start finds everything in place.
    expect(second.output()).not.toContain("password:");
    const client = new pg.Client({
      connectionString: `postgresql://postgres:sam-studio@127.0.0.1:${env.EMBEDDED_PG_PORT}/sam_studio`,
    });
    await client.connect();
    const counts = await client.query<{ users: number; images: number }>(
      `SELECT (SELECT count(*) FROM "User")::int AS users, (SELECT count(*) FROM "Image")::int AS images`,
    );
    await client.end();
    expect(counts.rows[0]).toEqual({ users: 2, images: 7 });
    second.child.kill("SIGINT");
    expect(await second.exit).toBe(0);
  }, 180_000);
});
