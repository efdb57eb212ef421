import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot, resetEnvCache } from "@sas/config";
import { disconnectPrisma, prisma } from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import { annotationFor, jsonBytes, sa1bFileFor, tarBytes } from "@sas/sa1b/import/testing";
import { rectMask } from "@sas/sa1b/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cocoImage, cocoMask } from "../services/sa1b-import.fixtures";

const work = mkdtempSync(path.join(os.tmpdir(), "sas-sa1b-import-cli-"));
const dataDir = path.join(work, "data");
process.env.DATA_DIR = dataDir;
resetEnvCache();

const projectName = `sa1b-cli-${Math.random().toString(36).slice(2)}`;
const BEAR = "bear00_000000243075";

function runCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "packages/api/src/cli/sa1b-import.ts"), ...args],
    { cwd: repoRoot, env: { ...process.env, DATA_DIR: dataDir, INIT_CWD: work, LOG_LEVEL: "warn", ...env } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

beforeAll(async () => {
  const mask = await cocoMask(BEAR);
  const image = await cocoImage(BEAR);
  const bad = sa1bFileFor(2, mask, [annotationFor(21, rectMask(10, 20, 0, 0, 3, 3))]);
  await writeFile(
    path.join(work, "shard.tar"),
    await tarBytes([
      { name: "sa_1.jpg", bytes: image },
      { name: "sa_1.json", bytes: jsonBytes(sa1bFileFor(1, mask, [annotationFor(11, mask)])) },
      { name: "sa_2.json", bytes: jsonBytes(bad) },
    ]),
  );
});

afterAll(async () => {
  const images = await prisma().image.findMany({
    where: { project: { name: projectName } },
    select: { id: true },
  });
  const embed = queue("embed");
  for (const image of images) {
    for (const job of await embed.getJobs(["waiting", "delayed", "prioritized"])) {
      if (job?.data?.imageId === image.id) await job.remove();
    }
  }
  await prisma().project.deleteMany({ where: { name: projectName } });
  await closeQueues();
  await disconnectPrisma();
  await rm(work, { recursive: true, force: true });
});

describe("npm run sa1b:import", () => {
  it("creates the project, imports the good file, prints the bad one and a summary, exits 1", async () => {
    const result = await runCli(["--project", projectName, "shard.tar"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`Importing into "${projectName}" (new project)`);
    expect(result.stdout).toContain("imported   sa_1.jpg (640x573, 1 mask)");
    expect(result.stdout).toContain("failed     sa_2.jpg: missing image");
    expect(result.stdout).toContain(
      "images imported 1, skipped as duplicates 0, failed 1; masks imported 1\n",
    );
    expect(result.code).toBe(1);
    const project = await prisma().project.findUniqueOrThrow({ where: { name: projectName } });
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(1);
  });

  it("a clean re-import of the good file's folder exits 0 and adds nothing", async () => {
    await writeFile(path.join(work, "sa_1.jpg"), await cocoImage(BEAR));
    const mask = await cocoMask(BEAR);
    await writeFile(path.join(work, "sa_1.json"), jsonBytes(sa1bFileFor(1, mask, [annotationFor(11, mask)])));
    const result = await runCli(["--project", projectName, "."]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(
      "images imported 0, skipped as duplicates 1, failed 0; masks imported 0 (1 already there)\n",
    );
    expect(result.code).toBe(0);
  });

  it("fails with one line and writes nothing when a path cannot be read or there is no database", async () => {
    const [missing, noDatabase, noArgs] = await Promise.all([
      runCli(["--project", `${projectName}-never`, "shard.tar", "no-such-shard.tar"]),
      runCli(["--project", `${projectName}-never`, "shard.tar"], {
        DATABASE_URL: "postgresql://postgres@127.0.0.1:9/nowhere",
      }),
      runCli(["shard.tar"]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: ${path.join(work, "no-such-shard.tar")} does not exist\n`);
    expect(missing.stdout).toBe("");
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr).toMatch(/^error: cannot use the database at [^\n]*\n$/);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toMatch(/^error: --project NAME is required\nusage: /);
    expect(await prisma().project.count({ where: { name: `${projectName}-never` } })).toBe(0);
  });
});
