/**
 * `npm start` with WEB_PROCESSES=2: two web processes share the port, and one that dies is restarted
 * while the other keeps answering. It runs the launcher (web only, against the test database and Redis)
 * and builds the web app when its sources changed (into the shared apps/web/.next): run it under the e2e
 * lock, as everything that runs `npm start` (see the README).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "@sas/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "./test-wait";
import { WEB_PROCESS_HEADER } from "./web-server";

const port = 20_000 + Math.floor(Math.random() * 20_000);
const base = `http://127.0.0.1:${port}`;
let dataDir: string;
let launcher: ChildProcess;
let output = "";

const waitFor = (check: () => Promise<boolean>, timeoutMs: number) =>
  waitUntil(check, timeoutMs, () => output);

/** The web process that answered a health check (the header's number), or null when none did. */
async function answeredBy(): Promise<string | null> {
  try {
    // A fresh connection each time: a kept-alive one would stay with the process that accepted it.
    const response = await fetch(`${base}/api/trpc/health.check`, {
      headers: { connection: "close" },
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    return response.ok ? response.headers.get(WEB_PROCESS_HEADER) : null;
  } catch {
    return null;
  }
}

/** Which processes answer `count` requests made one after another. */
async function processesAnswering(count: number): Promise<Set<string | null>> {
  const seen = new Set<string | null>();
  for (let i = 0; i < count; i++) seen.add(await answeredBy());
  return seen;
}

/** The pid of the launcher's latest web child (it logs each start): the primary of the web processes. */
function webPrimaryPid(): number {
  const pids = [...output.matchAll(/"child":"web","pid":(\d+)/g)].map((m) => Number(m[1]));
  if (!pids.length) throw new Error("no web pid in the launcher output");
  return pids.at(-1)!;
}

/** Pids of a process's children (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-web-processes-"));
  const emptyDir = await mkdtemp(path.join(os.tmpdir(), "sas-web-processes-images-"));
  launcher = spawn(process.execPath, ["--import", "tsx", "packages/launcher/src/start.ts", "--no-worker"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DEMO_IMAGES_DIR: emptyDir,
      PORT: String(port),
      LOG_LEVEL: "info",
      WEB_PROCESSES: "2",
      INITIAL_ADMIN_PASSWORD: "web-processes-admin-password",
      INITIAL_ANNOTATOR_PASSWORD: "web-processes-annotator-password",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  launcher.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  launcher.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  // First start may build the web app; then both processes prepare Next.
  await waitFor(async () => (output.match(/web server ready/g) ?? []).length >= 2, 600_000);
  await rm(emptyDir, { recursive: true, force: true });
}, 660_000);

afterAll(async () => {
  if (launcher && launcher.exitCode === null) {
    const exited = new Promise((resolve) => launcher.once("exit", resolve));
    launcher.kill("SIGTERM");
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 120_000);

describe("npm start with WEB_PROCESSES=2", () => {
  it("two processes answer on the same port", async () => {
    const seen = await processesAnswering(20);
    expect(seen.has(null)).toBe(false);
    expect([...seen].sort()).toEqual(["1", "2"]);
    expect(await childrenOf(webPrimaryPid())).toHaveLength(2);
  }, 60_000);

  it("a SIGKILLed web process is restarted while the other keeps answering", async () => {
    const primary = webPrimaryPid();
    const [victim] = await childrenOf(primary);
    process.kill(victim!, "SIGKILL");
    const killedAt = Date.now();
    // A connection the primary handed over in the moment the process died is lost with it; once the
    // primary has seen the exit, every connection goes to the survivor.
    await waitFor(async () => output.includes(`"workerPid":${victim},`), 30_000);
    let failures = 0;
    // The replacement is cluster worker 3; until it is up, every request goes to the survivor.
    await waitFor(async () => {
      const seen = await processesAnswering(4);
      if (seen.has(null)) failures += 1;
      return seen.has("3");
    }, 120_000);
    expect(failures).toBe(0);
    expect(output).toMatch(new RegExp(`"workerPid":${victim},[^\\n]*web process exited; restarting it`));
    const children = await childrenOf(primary);
    expect(children).toHaveLength(2);
    expect(children).not.toContain(victim);
    // The launcher never saw the web child die: the primary handled it.
    expect(webPrimaryPid()).toBe(primary);
    process.stdout.write(`web process replaced ${Date.now() - killedAt} ms after SIGKILL\n`);
  }, 150_000);

  it("SIGTERM to the launcher stops every web process", async () => {
    const primary = webPrimaryPid();
    const children = await childrenOf(primary);
    const exited = new Promise<number | null>((resolve) => launcher.once("exit", resolve));
    launcher.kill("SIGTERM");
    expect(await exited).toBe(0);
    for (const pid of [primary, ...children]) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});
