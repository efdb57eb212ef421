import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auth } from "@sas/auth";
import { resetEnvCache } from "@sas/config";
import {
  claimExport,
  completeExport,
  createExport,
  createUserWithPassword,
  disconnectPrisma,
  exportFileKey,
  prisma,
} from "@sas/db";
import { storage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "./route";

async function signIn(email: string, password: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`sign-in failed for ${email}`);
  return cookie.split(";")[0]!;
}

describe("GET /api/exports/:exportId/files/:name", () => {
  let dataDir: string;
  let exportId: string;
  let runningId: string;
  const shard = new Uint8Array(10_000).map((_, i) => (i * 31) % 256);
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-export-route-"));
    process.env.DATA_DIR = dataDir;
    resetEnvCache();
    const db = prisma();
    const tag = Date.now();
    const project = await db.project.create({ data: { name: `export-route-${tag}` } });
    const password = "correct horse battery";
    for (const [name, role] of [
      ["manager", "manager"],
      ["reviewer", "reviewer"],
    ] as const) {
      const user = await createUserWithPassword(db, {
        email: `${name}-${tag}@t.local`,
        name,
        role: "annotator",
        password,
      });
      await db.projectMember.create({ data: { projectId: project.id, userId: user.id, role } });
      cookies[name] = await signIn(user.email, password);
    }
    // A completed export of one shard (1 image), its files written as the worker writes them.
    const created = await createExport(db, { id: null }, { projectId: project.id });
    exportId = created.id;
    await claimExport(db, exportId);
    await storage().put(exportFileKey(exportId, "sa_000000.tar"), shard);
    await storage().put(
      exportFileKey(exportId, "manifest.jsonl"),
      new TextEncoder().encode('{"kind":"summary"}\n'),
    );
    await completeExport(db, exportId, { images: 1, masks: 1, sizeBytes: shard.byteLength });
    runningId = (await createExport(db, { id: null }, { projectId: project.id })).id;
  });

  afterAll(async () => {
    await disconnectPrisma();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (name: string, cookie?: string, headers: Record<string, string> = {}, id = exportId) =>
    GET(
      new Request(`http://127.0.0.1/api/exports/${id}/files/${name}`, {
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
      }),
      { params: Promise.resolve({ exportId: id, name }) },
    );

  it("streams a whole shard with its length and Accept-Ranges", async () => {
    const response = await get("sa_000000.tar", cookies.manager);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("10000");
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(response.headers.get("content-type")).toBe("application/x-tar");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(shard);
  });

  it("serves ranges with 206 and refuses ranges past the end with 416", async () => {
    const part = await get("sa_000000.tar", cookies.manager, { range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 100-199/10000");
    expect(part.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(shard.slice(100, 200));

    const tail = await get("sa_000000.tar", cookies.manager, { range: "bytes=-10" });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(shard.slice(9990));

    const past = await get("sa_000000.tar", cookies.manager, { range: "bytes=10000-" });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */10000");
  });

  it("serves the manifest; unknown names and unfinished exports are refused", async () => {
    const manifest = await get("manifest.jsonl", cookies.manager);
    expect(manifest.status).toBe(200);
    expect(await manifest.text()).toBe('{"kind":"summary"}\n');
    expect((await get("sa_000001.tar", cookies.manager)).status).toBe(404);
    expect((await get("..%2Fsecret", cookies.manager)).status).toBe(404);
    expect((await get("manifest.jsonl", cookies.manager, {}, runningId)).status).toBe(409);
  });

  it("is for the project's managers only", async () => {
    expect((await get("sa_000000.tar")).status).toBe(401);
    expect((await get("sa_000000.tar", cookies.reviewer)).status).toBe(403);
  });
});
