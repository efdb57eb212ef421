import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { cancelWhileResuming } from "@sas/api/testing/stream-cancel";
import { auth } from "@sas/auth";
import { repoRoot, resetEnvCache } from "@sas/config";
import { createUserWithPassword, disconnectPrisma, prisma, registerModelVersion } from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getFile } from "../app/api/images/[imageId]/file/route";
import { POST as upload } from "../app/api/projects/[projectId]/images/route";

// The route handlers are called directly, with requests carrying a real better-auth session cookie.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "sas-routes-"));
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL ??= "warn";
resetEnvCache();

const password = "route-test-password";
const origin = "http://127.0.0.1:3000";
const fixtures = path.resolve(repoRoot, "fixtures/images");
const unique = Math.random().toString(36).slice(2);
const cookies: Record<"admin" | "manager" | "annotator" | "outsider", string> = {
  admin: "",
  manager: "",
  annotator: "",
  outsider: "",
};
let projectId: string;
let modelVersionId: string;
let dog: Buffer;

async function signIn(email: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .join("; ");
}

function uploadRequest(
  bytes: Uint8Array | ReadableStream<Uint8Array>,
  options: { cookie?: string; filename?: string | null; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(options.headers);
  if (options.cookie) headers.set("cookie", options.cookie);
  if (options.filename !== null) headers.set("x-filename", encodeURIComponent(options.filename ?? "dog.jpg"));
  headers.set("content-type", "application/octet-stream");
  // Node needs `duplex` for a streamed body; the DOM typings do not know the field.
  const init: RequestInit & { duplex: "half" } = {
    method: "POST",
    headers,
    body: bytes instanceof ReadableStream ? bytes : new Uint8Array(bytes),
    duplex: "half",
  };
  return upload(new Request(`${origin}/api/projects/${projectId}/images`, init), {
    params: Promise.resolve({ projectId }),
  });
}

function fileRequest(
  imageId: string,
  cookie: string | undefined,
  query = "",
  headers: Record<string, string> = {},
) {
  return getFile(
    new Request(`${origin}/api/images/${imageId}/file${query}`, {
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
    }),
    { params: Promise.resolve({ imageId }) },
  );
}

beforeAll(async () => {
  const db = prisma();
  dog = await readFile(path.join(fixtures, "dog.jpg"));
  const model = await registerModelVersion(db, {
    name: `routes-test-${unique}`,
    encoderPath: "encoder.onnx",
    encoderSha256: "c".repeat(64),
    decoderPath: "decoder.onnx",
    decoderSha256: "d".repeat(64),
  });
  modelVersionId = model.id;
  // The project pins its (inactive) model version, so whatever other tests left active does not matter.
  const project = await db.project.create({ data: { name: `routes-${unique}`, modelVersionId } });
  projectId = project.id;
  for (const [key, role] of [
    ["admin", "admin"],
    ["manager", "annotator"],
    ["annotator", "annotator"],
    ["outsider", "manager"],
  ] as const) {
    const email = `${key}-${unique}@routes.test`;
    const user = await createUserWithPassword(db, { email, name: key, role, password });
    if (key === "manager") {
      await db.projectMember.create({ data: { projectId, userId: user.id, role: "manager" } });
    }
    if (key === "annotator") {
      await db.projectMember.create({ data: { projectId, userId: user.id, role: "annotator" } });
    }
    cookies[key] = await signIn(email);
  }
});

afterAll(async () => {
  const images = await prisma().image.findMany({ where: { projectId }, select: { id: true } });
  await Promise.all(images.map((image) => queue("embed").remove(`embed-${image.id}-${modelVersionId}`)));
  await closeQueues();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

describe("POST /api/projects/:projectId/images", () => {
  it("401 for an anonymous caller", async () => {
    const response = await uploadRequest(dog);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "sign in first" });
  });

  it("403 for a project annotator, 404 for a non-member", async () => {
    const annotator = await uploadRequest(dog, { cookie: cookies.annotator });
    expect(annotator.status).toBe(403);
    expect((await annotator.json()).error).toMatch(/managers/);
    const outsider = await uploadRequest(dog, { cookie: cookies.outsider });
    expect(outsider.status).toBe(404);
    expect(await prisma().image.count({ where: { projectId } })).toBe(0);
  });

  it("201 for the project's manager, then 200 duplicate for an admin sending the same bytes", async () => {
    const created = await uploadRequest(dog, { cookie: cookies.manager, filename: "chien été.jpg" });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({
      status: "created",
      image: { filename: "chien été.jpg", width: 800, height: 534, status: "uploaded" },
      embedding: { queued: true, modelVersionId },
    });
    expect(await queue("embed").getJob(`embed-${body.image.id}-${modelVersionId}`)).toBeTruthy();

    const duplicate = await uploadRequest(dog, { cookie: cookies.admin, filename: "copy.jpg" });
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toMatchObject({ status: "duplicate", image: { id: body.image.id } });
    expect(await prisma().image.count({ where: { projectId } })).toBe(1);
  });

  it("201 for an admin who is not a member", async () => {
    const other = await sharp(dog).flop().jpeg().toBuffer();
    const response = await uploadRequest(other, { cookie: cookies.admin, filename: "flopped.jpg" });
    expect(response.status).toBe(201);
  });

  it("400 with the reason for a file that is not an image", async () => {
    const response = await uploadRequest(Buffer.from("plain text"), {
      cookie: cookies.manager,
      filename: "a.txt",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      filename: "a.txt",
      reason: expect.stringMatching(/not a readable image/),
      error: expect.stringMatching(/^a\.txt: not a readable image/),
    });
  });

  it("400 without an X-Filename header", async () => {
    const response = await uploadRequest(dog, { cookie: cookies.manager, filename: null });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/X-Filename/);
  });

  it("413 when Content-Length declares too much, before reading the body", async () => {
    const response = await uploadRequest(dog, {
      cookie: cookies.manager,
      headers: { "content-length": String(300 * 1024 * 1024) },
    });
    expect(response.status).toBe(413);
  });

  it("413 when a body without Content-Length grows past the limit while being read", async () => {
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 400) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await uploadRequest(endless, { cookie: cookies.manager });
    expect(response.status).toBe(413);
    // It stopped reading soon after the 200 MB limit instead of draining all 400 MB.
    expect(sent).toBeLessThan(210);
  });

  it("403 for an upload a page on another site started", async () => {
    const response = await uploadRequest(dog, {
      cookie: cookies.manager,
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
  });

  it("404 for a malformed project id", async () => {
    const response = await upload(
      new Request(`${origin}/api/projects/nope/images`, {
        method: "POST",
        headers: { cookie: cookies.admin },
      }),
      { params: Promise.resolve({ projectId: "nope" }) },
    );
    expect(response.status).toBe(404);
  });
});

describe("GET /api/images/:imageId/file", () => {
  let imageId: string;
  beforeAll(async () => {
    const image = await prisma().image.findFirstOrThrow({ where: { projectId, filename: "chien été.jpg" } });
    imageId = image.id;
    // Annotators see only images assigned to them: the annotator holds a lease on this one.
    const annotator = await prisma().user.findUniqueOrThrow({
      where: { email: `annotator-${unique}@routes.test` },
    });
    await prisma().assignment.create({
      data: { imageId, userId: annotator.id, expiresAt: new Date(Date.now() + 3600_000) },
    });
  });

  it("serves the original to a member, cacheable forever, with the sha256 as ETag", async () => {
    const response = await fileRequest(imageId, cookies.annotator);
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "content-type": "image/jpeg",
      "content-length": String(dog.byteLength),
      "cache-control": "private, max-age=31536000, immutable",
      "cross-origin-resource-policy": "same-origin",
    });
    const sha = (await prisma().image.findUniqueOrThrow({ where: { id: imageId } })).sha256;
    expect(response.headers.get("etag")).toBe(`"${sha}"`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(dog);

    const revalidated = await fileRequest(imageId, cookies.annotator, "", { "if-none-match": `"${sha}"` });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
  });

  it("serves an upright WebP thumbnail", async () => {
    const response = await fileRequest(imageId, cookies.manager, "?variant=thumb");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 320, 214]);
  });

  it("a client leaving mid-download raises nothing in the server process", async () => {
    // Several of the storage stream's 64 KiB reads, so the download stops with data still buffered.
    const large = await readFile(path.join(fixtures, "dogs.jpg"));
    const uploaded = await uploadRequest(large, { cookie: cookies.manager, filename: "dogs.jpg" });
    expect(uploaded.status).toBe(201);
    const { image } = (await uploaded.json()) as { image: { id: string } };
    const response = await fileRequest(image.id, cookies.manager);
    expect(response.status).toBe(200);
    expect(await cancelWhileResuming(response.body!)).toEqual([]);
    // The next download of the same file is whole.
    const again = await fileRequest(image.id, cookies.manager);
    expect(Buffer.from(await again.arrayBuffer())).toEqual(large);
  });

  it("401 anonymous, 404 for a non-member and for an unknown or malformed id", async () => {
    expect((await fileRequest(imageId, undefined)).status).toBe(401);
    expect((await fileRequest(imageId, cookies.outsider)).status).toBe(404);
    expect((await fileRequest("00000000-0000-4000-8000-000000000000", cookies.admin)).status).toBe(404);
    expect((await fileRequest("x", cookies.admin)).status).toBe(404);
    expect((await fileRequest(imageId, cookies.admin, "?variant=huge")).status).toBe(400);
  });
});
