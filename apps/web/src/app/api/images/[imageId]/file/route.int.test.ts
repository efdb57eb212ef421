import { readFile } from "node:fs/promises";
import path from "node:path";
import { auth } from "@sas/auth";
import { repoRoot, resetEnvCache } from "@sas/config";
import { createUserWithPassword, disconnectPrisma, ingestImage, prisma, THUMBNAIL_SIDE } from "@sas/db";
import { resetStorage, S3Storage, storage, thumbnailKey } from "@sas/storage";
import { startTestS3Server, type TestS3Server } from "@sas/storage/testing";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "./route";

async function signIn(email: string, password: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`sign-in failed for ${email}`);
  return cookie.split(";")[0]!;
}

// The web process on S3 storage: originals stream from the bucket, previews are rendered once and kept there.
describe("GET /api/images/:imageId/file on S3 storage", () => {
  let s3: TestS3Server;
  let imageId: string;
  let sha256: string;
  let cookie: string;
  const original = readFile(path.join(repoRoot, "fixtures/images/dog.jpg"));
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
    const project = await db.project.create({ data: { name: `file-route-s3-${tag}` } });
    const password = "correct horse battery";
    const admin = await createUserWithPassword(db, {
      email: `admin-${tag}@t.local`,
      name: "admin",
      role: "admin",
      password,
    });
    cookie = await signIn(admin.email, password);
    const { image } = await ingestImage(db, storage(), {
      projectId: project.id,
      filename: "dog.jpg",
      bytes: new Uint8Array(await original),
    });
    imageId = image.id;
    sha256 = image.sha256;
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

  const get = (variant?: string) =>
    GET(
      new Request(`http://127.0.0.1/api/images/${imageId}/file${variant ? `?variant=${variant}` : ""}`, {
        headers: { cookie },
      }),
      { params: Promise.resolve({ imageId }) },
    );

  it("streams the original from the bucket", async () => {
    const response = await get();
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
    expect(Buffer.compare(bytes, await original)).toBe(0);
  });

  it("renders the preview on the first request, stores it, and serves the stored one afterwards", async () => {
    const key = thumbnailKey(sha256, THUMBNAIL_SIDE);
    expect(await storage().exists(key)).toBe(false);
    const first = await get("thumb");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/webp");
    const rendered = Buffer.from(await first.arrayBuffer());
    const info = await sharp(rendered).metadata();
    expect(Math.max(info.width ?? 0, info.height ?? 0)).toBe(THUMBNAIL_SIDE);
    expect(Buffer.compare(await storage().get(key), rendered)).toBe(0);

    // A different preview in its place: the route must serve it, which it would not if it rendered again.
    const marker = await sharp({
      create: { width: 4, height: 3, channels: 3, background: { r: 255, g: 0, b: 0 } },
    })
      .webp()
      .toBuffer();
    await storage().put(key, marker);
    const second = await get("thumb");
    expect(second.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await second.arrayBuffer()), marker)).toBe(0);
  });

  it("answers 404 when the original is gone and no preview was stored", async () => {
    await storage().delete(thumbnailKey(sha256, THUMBNAIL_SIDE));
    const originalKey = (await prisma().image.findUniqueOrThrow({ where: { id: imageId } })).storageKey;
    await storage().delete(originalKey);
    expect((await get("thumb")).status).toBe(404);
    expect((await get()).status).toBe(404);
  });
});
