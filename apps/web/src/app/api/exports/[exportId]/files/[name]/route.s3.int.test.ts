import { createHash } from "node:crypto";
import { Readable } from "node:stream";
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
import { resetStorage, S3Storage, storage } from "@sas/storage";
import { startTestS3Server, type TestS3Server } from "@sas/storage/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "./route";

async function signIn(email: string, password: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`sign-in failed for ${email}`);
  return cookie.split(";")[0]!;
}

// The export download on S3 storage: a shard uploaded in parts, then read whole and by HTTP ranges,
// which the route passes to the bucket as S3 ranges.
describe("GET /api/exports/:exportId/files/:name on S3 storage", () => {
  let s3: TestS3Server;
  let exportId: string;
  let cookie: string;
  const size = 11 * 1024 * 1024 + 17;
  const shard = Buffer.alloc(size);
  for (let i = 0; i < size; i++) shard[i] = (i * 31 + (i >> 12)) % 256;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    s3 = await startTestS3Server();
    for (const [name, value] of Object.entries(s3.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    resetEnvCache();
    resetStorage();
    expect(storage()).toBeInstanceOf(S3Storage);
    const db = prisma();
    const tag = Date.now();
    const project = await db.project.create({ data: { name: `export-route-s3-${tag}` } });
    const password = "correct horse battery";
    const user = await createUserWithPassword(db, {
      email: `manager-${tag}@t.local`,
      name: "manager",
      role: "annotator",
      password,
    });
    await db.projectMember.create({ data: { projectId: project.id, userId: user.id, role: "manager" } });
    cookie = await signIn(user.email, password);
    exportId = (await createExport(db, { id: null }, { projectId: project.id })).id;
    await claimExport(db, exportId);
    // Streamed in 1 MiB pieces, as the export worker writes shards: a multipart upload.
    const pieces = Array.from({ length: Math.ceil(size / 2 ** 20) }, (_, i) =>
      shard.subarray(i * 2 ** 20, (i + 1) * 2 ** 20),
    );
    await storage().put(exportFileKey(exportId, "sa_000000.tar"), Readable.from(pieces));
    await completeExport(db, exportId, { images: 1, masks: 1, sizeBytes: size });
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
    resetStorage();
    await disconnectPrisma();
    await s3.close();
  });

  const get = (headers: Record<string, string> = {}) =>
    GET(
      new Request(`http://127.0.0.1/api/exports/${exportId}/files/sa_000000.tar`, {
        headers: { ...headers, cookie },
      }),
      { params: Promise.resolve({ exportId, name: "sa_000000.tar" }) },
    );

  const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  it("streams the whole shard", async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(size));
    expect(sha(new Uint8Array(await response.arrayBuffer()))).toBe(sha(shard));
  });

  it("serves ranges (206) from the bucket and refuses ranges past the end (416)", async () => {
    const start = 8 * 1024 * 1024 - 5;
    const part = await get({ range: `bytes=${start}-${start + 99}` });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${start}-${start + 99}/${size}`);
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), shard.subarray(start, start + 100))).toBe(0);

    const tail = await get({ range: "bytes=-10" });
    expect(tail.status).toBe(206);
    expect(Buffer.compare(Buffer.from(await tail.arrayBuffer()), shard.subarray(size - 10))).toBe(0);

    expect((await get({ range: `bytes=${size}-` })).status).toBe(416);
  });
});
