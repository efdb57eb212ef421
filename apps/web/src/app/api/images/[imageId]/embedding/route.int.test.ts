import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auth } from "@sas/auth";
import { resetEnvCache } from "@sas/config";
import {
  createUserWithPassword,
  disconnectPrisma,
  prisma,
  recordEmbedding,
  registerModelVersion,
} from "@sas/db";
import { defaultModelFiles } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "./route";

async function signIn(email: string, password: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`sign-in failed for ${email}`);
  return cookie.split(";")[0]!;
}

describe("GET /api/images/:id/embedding", () => {
  let dataDir: string;
  let imageId: string;
  let stored: Uint8Array;
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-emb-route-"));
    process.env.DATA_DIR = dataDir;
    resetEnvCache();
    const db = prisma();
    const tag = Date.now();
    const model = await registerModelVersion(db, { name: `route-${tag}`, ...defaultModelFiles() });
    const project = await db.project.create({ data: { name: `route-${tag}` } });
    const other = await db.project.create({ data: { name: `other-${tag}` } });
    const image = await db.image.create({
      data: {
        projectId: project.id,
        filename: "x.jpg",
        mimeType: "image/jpeg",
        width: 640,
        height: 480,
        sizeBytes: 1n,
        sha256: "a".repeat(64),
        storageKey: "images/aa/x.jpg",
      },
    });
    imageId = image.id;
    stored = new Uint8Array(256 * 64 * 64 * 2).map((_, i) => (i * 7) % 251);
    const key = `embeddings/${model.id}/${image.id}.f16`;
    await storage().put(key, stored);
    await db.project.update({ where: { id: project.id }, data: { modelVersionId: model.id } });
    await recordEmbedding(db, {
      imageId,
      modelVersionId: model.id,
      storageKey: key,
      sizeBytes: stored.length,
      encodeMs: 1,
    });

    const password = "correct horse battery";
    for (const [name, role, projectId] of [
      ["member", "annotator", project.id],
      ["outsider", "annotator", other.id],
      ["admin", "admin", null],
    ] as const) {
      const user = await createUserWithPassword(db, {
        email: `${name}-${tag}@t.local`,
        name,
        role,
        password,
      });
      if (projectId)
        await db.projectMember.create({ data: { projectId, userId: user.id, role: "annotator" } });
      // Annotators see only images assigned to them: the member holds a lease on the image.
      if (name === "member")
        await db.assignment.create({
          data: { imageId, userId: user.id, expiresAt: new Date(Date.now() + 3600_000) },
        });
      cookies[name] = await signIn(user.email, password);
    }
  });

  afterAll(async () => {
    await disconnectPrisma();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (cookie?: string, headers: Record<string, string> = {}) =>
    GET(
      new Request(`http://127.0.0.1/api/images/${imageId}/embedding`, {
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
      }),
      {
        params: Promise.resolve({ imageId }),
      },
    );

  it("serves the stored float16 bytes to a project member, with the metadata the decoder needs", async () => {
    const response = await get(cookies.member);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(stored);
    expect(response.headers.get("x-embedding-dtype")).toBe("float16");
    expect(response.headers.get("x-embedding-shape")).toBe("1,256,64,64");
    expect(response.headers.get("x-image-size")).toBe("640,480");
    expect(response.headers.get("cache-control")).toContain("private");
    const etag = response.headers.get("etag")!;
    const again = await get(cookies.member, { "if-none-match": etag });
    expect(again.status).toBe(304);
  });

  it("admins may read it; anonymous callers and outsiders may not", async () => {
    expect((await get(cookies.admin)).status).toBe(200);
    expect((await get()).status).toBe(401);
    expect((await get(cookies.outsider)).status).toBe(404);
  });
});
