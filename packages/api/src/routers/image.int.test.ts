import { logger } from "@sas/config";
import { disconnectPrisma, type ImageStatus, prisma, type Role } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../root";

const unique = Math.random().toString(36).slice(2);
let projectId: string;
const users: Record<"admin" | "manager" | "annotator" | "outsider", { id: string; role: Role }> = {
  admin: { id: "", role: "admin" },
  manager: { id: "", role: "annotator" },
  annotator: { id: "", role: "annotator" },
  outsider: { id: "", role: "manager" },
};

function callerFor(key: keyof typeof users) {
  const { id, role } = users[key];
  return createCaller({
    db: prisma(),
    user: { id, role, email: `${key}@x`, name: key },
    reqId: "test",
    log: logger("test"),
  });
}

beforeAll(async () => {
  const db = prisma();
  const project = await db.project.create({ data: { name: `image-router-${unique}` } });
  projectId = project.id;
  for (const key of Object.keys(users) as (keyof typeof users)[]) {
    const user = await db.user.create({
      data: { email: `${key}-${unique}@image-router.test`, name: key, role: users[key].role },
    });
    users[key].id = user.id;
  }
  await db.projectMember.createMany({
    data: [
      { projectId, userId: users.manager.id, role: "manager" },
      { projectId, userId: users.annotator.id, role: "annotator" },
    ],
  });
  const statuses: ImageStatus[] = ["ready", "ready", "ready", "embedding", "uploaded", "failed"];
  // Rows only: the router reads the table, no file is served.
  await db.image.createMany({
    data: statuses.map((status, i) => ({
      projectId,
      filename: `img-${i}.jpg`,
      mimeType: "image/jpeg",
      width: 100,
      height: 80,
      sizeBytes: 1000n,
      sha256: i.toString(16).padStart(64, "0"),
      storageKey: `images/00/${i}.jpg`,
      status,
      error: status === "failed" ? "encoder crashed" : null,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    })),
  });
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("image.counts", () => {
  it("counts a project's images by status and says who may upload", async () => {
    const manager = await callerFor("manager").image.counts({ projectId });
    expect(manager.counts).toEqual({ ready: 3, embedding: 1, uploaded: 1, failed: 1, total: 6 });
    expect(manager.project.name).toBe(`image-router-${unique}`);
    expect([manager.role, manager.canUpload]).toEqual(["manager", true]);
    const annotator = await callerFor("annotator").image.counts({ projectId });
    expect([annotator.role, annotator.canUpload]).toEqual(["annotator", false]);
    const admin = await callerFor("admin").image.counts({ projectId });
    expect([admin.role, admin.canUpload]).toEqual(["admin", true]);
  });

  it("hides the project from non-members, whatever their global role", async () => {
    const error = await callerFor("outsider")
      .image.counts({ projectId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("NOT_FOUND");
  });
});

describe("image.listByProject", () => {
  it("pages through images oldest first with a cursor", async () => {
    const caller = callerFor("manager");
    const first = await caller.image.listByProject({ projectId, limit: 4 });
    expect(first.items.map((i) => i.filename)).toEqual(["img-0.jpg", "img-1.jpg", "img-2.jpg", "img-3.jpg"]);
    expect(first.nextCursor).toBe(first.items[3]!.id);
    const second = await caller.image.listByProject({ projectId, limit: 4, cursor: first.nextCursor });
    expect(second.items.map((i) => [i.filename, i.status, i.error])).toEqual([
      ["img-4.jpg", "uploaded", null],
      ["img-5.jpg", "failed", "encoder crashed"],
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it("shows an annotator only the images assigned to them, and counts only those", async () => {
    const db = prisma();
    const images = await db.image.findMany({ where: { projectId }, orderBy: { createdAt: "asc" } });
    const expiresAt = new Date(Date.now() + 3600_000);
    await db.assignment.createMany({
      data: [
        { imageId: images[1]!.id, userId: users.annotator.id, status: "active", expiresAt },
        { imageId: images[4]!.id, userId: users.annotator.id, status: "completed", expiresAt },
        // Given back: no longer theirs.
        { imageId: images[2]!.id, userId: users.annotator.id, status: "released", expiresAt },
      ],
    });
    const caller = callerFor("annotator");
    const page = await caller.image.listByProject({ projectId, limit: 1 });
    expect(page.items.map((i) => i.filename)).toEqual(["img-1.jpg"]);
    const next = await caller.image.listByProject({ projectId, limit: 1, cursor: page.nextCursor });
    expect([next.items.map((i) => i.filename), next.nextCursor]).toEqual([["img-4.jpg"], null]);
    const { counts } = await caller.image.counts({ projectId });
    expect(counts).toEqual({ ready: 1, embedding: 0, uploaded: 1, failed: 0, total: 2 });
    await db.assignment.deleteMany({ where: { userId: users.annotator.id } });
  });

  it("refuses a malformed project id", async () => {
    await expect(callerFor("admin").image.listByProject({ projectId: "nope" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});
