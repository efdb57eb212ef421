import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot, resetEnvCache } from "@sas/config";
import { disconnectPrisma, ingestImage, prisma } from "@sas/db";
import { encodeMask, sa1bExportFileSchema } from "@sas/sa1b";
import { untarBytes } from "@sas/sa1b/import/testing";
import { rectMask } from "@sas/sa1b/test-utils";
import { storage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const fixtures = path.resolve(repoRoot, "fixtures/images");

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(repoRoot, "packages/api/src/cli/sa1b-export.ts"), ...args],
      { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run sa1b:export", () => {
  let work: string;
  let projectName: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "sas-sa1b-cli-"));
    process.env.DATA_DIR = path.join(work, "data");
    resetEnvCache();
    const db = prisma();
    projectName = `cli-export-${Date.now()}`;
    const project = await db.project.create({ data: { name: projectName } });
    const { image } = await ingestImage(db, storage(), {
      projectId: project.id,
      filename: "dog.jpg",
      bytes: await readFile(path.join(fixtures, "dog.jpg")),
    });
    const rle = encodeMask(rectMask(image.width, image.height, 10, 20, 200, 150));
    await db.mask.create({
      data: {
        imageId: image.id,
        rle: { size: rle.size, counts: rle.counts },
        bbox: [10, 20, 189, 129],
        area: 190 * 130,
        cropBox: [],
        source: "auto",
        stage: "fully_automatic",
        predictedIou: 0.9,
        stabilityScore: 0.95,
      },
    });
  });

  afterAll(async () => {
    await disconnectPrisma();
    await rm(work, { recursive: true, force: true });
  });

  it("writes shards, manifest, file list and COCO JSON into the folder, downsampled", async () => {
    const out = path.join(work, "release");
    const env = { DATA_DIR: path.join(work, "data"), LOG_LEVEL: "warn" };
    const result = await run(
      ["--project", projectName, "--out", out, "--shortest-side", "100", "--coco", "--sources", "automatic"],
      env,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/exported 1 images, 1 masks/);
    expect((await readdir(out)).sort()).toEqual([
      "coco.json",
      "files.txt",
      "manifest.jsonl",
      "sa_000000.tar",
    ]);
    const members = await untarBytes(await readFile(path.join(out, "sa_000000.tar")));
    const file = sa1bExportFileSchema.parse(JSON.parse(members.get("sa_1.json")!.toString()));
    expect(Math.min(file.image.width, file.image.height)).toBe(100);
    expect(file.annotations).toHaveLength(1);
  });

  it("fails with one error line and a non-zero code", async () => {
    const env = { DATA_DIR: path.join(work, "data"), LOG_LEVEL: "warn" };
    const missing = await run(["--project", "no-such-project", "--out", path.join(work, "x")], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toEqual([
      'error: no project named or with id "no-such-project"',
    ]);
    const bad = await run(["--project", projectName, "--out", path.join(work, "x"), "--stage", "nope"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^error: filters\.stages\.0/);
  });
});
