import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { copyFile, link, mkdir, readFile, rm, symlink, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { repoRoot, resetEnvCache } from "@sas/config";
import { disconnectPrisma, prisma, registerModelVersion } from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import { storage } from "@sas/storage";
import { create as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSummary, type ImportSummary, importImages } from "./import-images";

const work = mkdtempSync(path.join(os.tmpdir(), "sas-import-"));
const dataDir = path.join(work, "data");
process.env.DATA_DIR = dataDir;
resetEnvCache();

const fixtures = path.resolve(repoRoot, "fixtures/images");
const folder = path.join(work, "photos");
const unique = Math.random().toString(36).slice(2);
let modelVersionId: string;
const projectIds: string[] = [];

/**
 * The source: two good images, a byte-identical copy of one (duplicate), a truncated JPEG and a text
 * file named .png (rejected), a text file and a macOS resource fork (skipped).
 */
async function makeFolder(): Promise<void> {
  await mkdir(path.join(folder, "sub", "deeper"), { recursive: true });
  await copyFile(path.join(fixtures, "dog.jpg"), path.join(folder, "dog.jpg"));
  await copyFile(path.join(fixtures, "truck.jpg"), path.join(folder, "sub", "truck.JPG"));
  await copyFile(path.join(fixtures, "dog.jpg"), path.join(folder, "sub", "deeper", "dog-copy.jpg"));
  const groceries = await readFile(path.join(fixtures, "groceries.jpg"));
  await writeFile(path.join(folder, "sub", "cut.jpg"), groceries.subarray(0, groceries.byteLength >> 1));
  await writeFile(path.join(folder, "fake.png"), "not a png at all\n");
  await writeFile(path.join(folder, "readme.txt"), "holiday photos\n");
  await writeFile(path.join(folder, "._dog.jpg"), "AppleDouble resource fork");
}

async function newProject(): Promise<{ id: string; name: string }> {
  const project = await prisma().project.create({
    data: { name: `import-${unique}-${projectIds.length}`, modelVersionId },
  });
  projectIds.push(project.id);
  return project;
}

function expectCounts(summary: ImportSummary, added: number, duplicates: number) {
  expect(summary.added).toBe(added);
  expect(summary.duplicates).toBe(duplicates);
  expect(summary.rejected).toEqual([
    { path: "fake.png", reason: expect.stringMatching(/not a readable image/) },
    { path: "sub/cut.jpg", reason: expect.stringMatching(/image data is damaged/) },
  ]);
  expect(summary.skipped.map((s) => [s.path, s.reason]).sort()).toEqual([
    ["._dog.jpg", "hidden file"],
    ["readme.txt", "not an image"],
  ]);
  expect(summary.embeddingNotQueued).toBeNull();
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "packages/api/src/cli/import-images.ts"), ...args],
    { cwd: repoRoot, env: { ...process.env, DATA_DIR: dataDir, INIT_CWD: work, LOG_LEVEL: "warn" } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  await makeFolder();
  const model = await registerModelVersion(prisma(), {
    name: `import-test-${unique}`,
    encoderPath: "encoder.onnx",
    encoderSha256: "e".repeat(64),
    decoderPath: "decoder.onnx",
    decoderSha256: "f".repeat(64),
  });
  modelVersionId = model.id;
});

afterAll(async () => {
  const images = await prisma().image.findMany({
    where: { projectId: { in: projectIds } },
    select: { id: true },
  });
  await Promise.all(images.map((image) => queue("embed").remove(`embed-${image.id}-${modelVersionId}`)));
  await closeQueues();
  await disconnectPrisma();
  await rm(work, { recursive: true, force: true });
});

describe("importImages", () => {
  it("imports a folder recursively: added, duplicates, rejected with reasons, skipped", async () => {
    const project = await newProject();
    const lines: string[] = [];
    const summary = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: folder,
      onProgress: (line) => lines.push(line),
    });
    expectCounts(summary, 2, 1);
    expect(lines).toContain("added      dog.jpg (800x534)");
    expect(lines).toContain("duplicate  sub/deeper/dog-copy.jpg (same bytes as dog.jpg)");
    const images = await prisma().image.findMany({
      where: { projectId: project.id },
      orderBy: { filename: "asc" },
    });
    expect(images.map((i) => i.filename)).toEqual(["dog.jpg", "truck.JPG"]);
    for (const image of images) {
      expect(await queue("embed").getJob(`embed-${image.id}-${modelVersionId}`)).toBeTruthy();
    }
    expect(formatSummary(summary, project.name, folder)).toMatch(
      /added {7}2\n {2}duplicates {2}1\n {2}rejected {4}2\n {4}fake\.png: .*\n {4}sub\/cut\.jpg: .*\n {2}skipped {5}2/,
    );
  });

  it("streams a tar.gz the same way, and a second import of it finds only duplicates", async () => {
    const archive = path.join(work, "photos.tar.gz");
    createTar({ sync: true, gzip: true, file: archive, cwd: folder }, ["."]);
    const project = await newProject();
    const first = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: archive,
    });
    expectCounts(first, 2, 1);
    const second = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: archive,
    });
    expectCounts(second, 0, 3);
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(2);
  });

  it("keeps what came before the damage in a truncated tar and reports where reading stopped", async () => {
    const archive = path.join(work, "cut.tar");
    // Order the entries so the cut falls inside the last one.
    createTar({ sync: true, file: archive, cwd: folder }, ["dog.jpg", "readme.txt", "sub/truck.JPG"]);
    await truncate(archive, 100_000 + 3 * 512 + 200_000);
    const project = await newProject();
    const summary = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: archive,
    });
    expect(summary.added).toBe(1);
    expect(summary.rejected).toEqual([
      { path: "sub/truck.JPG", reason: "cut off by the end of the archive" },
    ]);
    expect(summary.sourceError).toMatch(/archive is damaged/);
  });
});

describe("links", () => {
  it("follows a symlink inside the folder, lists one out of it (never read) and a broken one as skipped", async () => {
    const linked = path.join(work, "linked");
    const outside = path.join(work, "outside");
    await mkdir(path.join(linked, "sub"), { recursive: true });
    await mkdir(outside, { recursive: true });
    await copyFile(path.join(fixtures, "dog.jpg"), path.join(linked, "sub", "dog.jpg"));
    await copyFile(path.join(fixtures, "truck.jpg"), path.join(outside, "secret.jpg"));
    await symlink(path.join(linked, "sub", "dog.jpg"), path.join(linked, "inside.jpg"));
    await symlink(path.join(outside, "secret.jpg"), path.join(linked, "escape.jpg"));
    await symlink(path.join(linked, "missing.jpg"), path.join(linked, "broken.jpg"));
    const project = await newProject();
    const summary = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: linked,
    });
    expect(summary.skipped).toEqual([
      { path: "broken.jpg", reason: "broken symbolic link" },
      { path: "escape.jpg", reason: "symbolic link out of the folder" },
    ]);
    // inside.jpg is the same bytes as sub/dog.jpg: one image, one duplicate; secret.jpg never imported.
    expect([summary.added, summary.duplicates]).toEqual([1, 1]);
    expect(formatSummary(summary, project.name, linked)).toContain(
      "    escape.jpg: symbolic link out of the folder",
    );
  });

  it("lists symbolic and hard links in an archive as skipped", async () => {
    const src = path.join(work, "tarlinks");
    await mkdir(src, { recursive: true });
    await copyFile(path.join(fixtures, "dog.jpg"), path.join(src, "dog.jpg"));
    await symlink("/etc/passwd", path.join(src, "passwd.jpg"));
    await link(path.join(src, "dog.jpg"), path.join(src, "hard.jpg"));
    const archive = path.join(work, "links.tar");
    createTar({ sync: true, file: archive, cwd: src }, ["dog.jpg", "hard.jpg", "passwd.jpg"]);
    const project = await newProject();
    const summary = await importImages({
      db: prisma(),
      blobs: storage(),
      projectId: project.id,
      from: archive,
    });
    expect(summary.skipped).toEqual([
      { path: "hard.jpg", reason: "hard link in the archive" },
      { path: "passwd.jpg", reason: "symbolic link in the archive" },
    ]);
    expect(summary.added).toBe(1);
  });
});

describe("the import:images command", () => {
  it("imports a tar by project name, prints progress and a summary, exits 0", async () => {
    const archive = path.join(work, "photos.tar");
    createTar({ sync: true, file: archive, cwd: folder }, ["."]);
    const project = await newProject();
    // A relative --from is taken from the folder `npm run` was started in (INIT_CWD).
    const result = await runCli(["--project", project.name, "--from", "photos.tar"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("added      dog.jpg (800x534)");
    expect(result.stdout).toContain("rejected   fake.png: not a readable image");
    expect(result.stdout).toContain(`Imported into "${project.name}" from ${archive}:`);
    expect(result.stdout).toMatch(/added {7}2\n {2}duplicates {2}1\n {2}rejected {4}2\n/);
    expect(await prisma().image.count({ where: { projectId: project.id } })).toBe(2);
  });

  it("exits non-zero when nothing can be read", async () => {
    const project = await newProject();
    await writeFile(path.join(work, "notes.tar"), "this is not an archive");
    const [missing, notTar, noProject, noArgs] = await Promise.all([
      runCli(["--project", project.id, "--from", "no-such-folder"]),
      runCli(["--project", project.id, "--from", "notes.tar"]),
      runCli(["--project", "no such project", "--from", "photos"]),
      runCli([]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-folder does not exist/);
    expect(notTar.code).toBe(1);
    expect(notTar.stdout).toMatch(/Reading stopped early: the archive is damaged or not a tar file/);
    expect(notTar.stderr).toMatch(/nothing could be read/);
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toMatch(/no project named or with id "no such project"/);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toMatch(/--project NAME\|ID is required/);
  });
});
