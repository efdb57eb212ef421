import { ASSIGNMENT_LEASE_MS, disconnectPrisma, type ImageStatus, prisma } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerAs, createTestImage } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);

const callerFor = (user: { id: string; role?: "admin" | "manager" | "annotator" } | null) =>
  callerAs(user ? { id: user.id, role: user.role ?? "annotator" } : null);

async function makeUser(name: string) {
  return prisma().user.create({ data: { email: `${name}-${unique}@work.test`, name, role: "annotator" } });
}

/** A project whose images are created oldest first in the order of `statuses`; returns their ids. */
async function makeProject(name: string, statuses: ImageStatus[], memberIds: string[]) {
  const db = prisma();
  const project = await db.project.create({ data: { name: `work-${name}-${unique}` } });
  await db.projectMember.createMany({
    data: memberIds.map((userId) => ({ projectId: project.id, userId, role: "annotator" as const })),
  });
  const ids: string[] = [];
  for (const [i, status] of statuses.entries()) {
    const id = await createTestImage({
      projectId: project.id,
      filename: `${name}-${i}.jpg`,
      status,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
    ids.push(id);
  }
  return { projectId: project.id, imageIds: ids };
}

afterAll(async () => {
  await disconnectPrisma();
});

describe("work.next under concurrency", () => {
  it("gives 20 annotators pressing at once 20 different images", async () => {
    const annotators = await Promise.all(Array.from({ length: 20 }, (_, i) => makeUser(`crowd${i}`)));
    const { projectId, imageIds } = await makeProject(
      "crowd",
      [...Array<ImageStatus>(24).fill("ready"), "uploaded", "failed"],
      annotators.map((a) => a.id),
    );
    const leases = await Promise.all(annotators.map((a) => callerFor(a).work.next({ projectId })));
    const leased = leases.map((l) => l?.imageId);
    expect(leased.every((id) => id !== undefined)).toBe(true);
    expect(new Set(leased).size).toBe(20);
    // Oldest first: the first 20 ready images, none of the images that are not ready.
    expect(new Set(leased)).toEqual(new Set(imageIds.slice(0, 20)));
    const active = await prisma().assignment.count({
      where: { status: "active", image: { projectId } },
    });
    expect(active).toBe(20);
  });

  it("gives one annotator's simultaneous presses one image", async () => {
    const [annotator] = await Promise.all([makeUser("double")]);
    const { projectId } = await makeProject("double", ["ready", "ready", "ready"], [annotator!.id]);
    const caller = callerFor(annotator!);
    const leases = await Promise.all([1, 2, 3].map(() => caller.work.next({ projectId })));
    expect(new Set(leases.map((l) => l?.imageId)).size).toBe(1);
    expect(await caller.work.current({ projectId })).toHaveLength(1);
  });
});

describe("work leases", () => {
  let ann: { id: string };
  let bea: { id: string };
  let outsider: { id: string };
  let projectId: string;
  let img: string[];

  beforeAll(async () => {
    ann = await makeUser("ann");
    bea = await makeUser("bea");
    outsider = await makeUser("outsider");
    ({ projectId, imageIds: img } = await makeProject(
      "leases",
      ["ready", "ready", "ready", "embedding"],
      [ann.id, bea.id],
    ));
  });

  it("hands out, extends, expires, completes and runs out", async () => {
    const a = callerFor(ann);
    const b = callerFor(bea);
    const db = prisma();

    const before = Date.now();
    const first = await a.work.next({ projectId });
    expect(first?.imageId).toBe(img[0]);
    expect(first!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + ASSIGNMENT_LEASE_MS);

    // The caller's own lease comes back, extended.
    const again = await a.work.next({ projectId });
    expect(again?.imageId).toBe(img[0]);
    expect(again!.expiresAt.getTime()).toBeGreaterThanOrEqual(first!.expiresAt.getTime());
    expect(await a.work.current({ projectId })).toEqual([
      { imageId: img[0], filename: "leases-0.jpg", leasedAt: expect.any(Date), expiresAt: again!.expiresAt },
    ]);

    // Someone else gets the next one.
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[1]);

    // Ann walks away: her lease runs out and image 0 goes back to the pool.
    await db.assignment.updateMany({
      where: { userId: ann.id, status: "active" },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await a.work.current({ projectId })).toEqual([]);
    expect(await b.work.complete({ imageId: img[1]! })).toMatchObject({ imageId: img[1] });
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[0]);
    const annRows = await db.assignment.findMany({ where: { userId: ann.id }, select: { status: true } });
    expect(annRows).toEqual([{ status: "expired" }]);

    // Completed images are not handed to the same annotator again.
    await b.work.complete({ imageId: img[0]! });
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[2]);
    await b.work.complete({ imageId: img[2]! });
    // Image 1 is completed by Bea too, and the embedding image is not ready: nothing left for her.
    expect(await b.work.next({ projectId })).toBeNull();
    // Completing twice is harmless and keeps one completed row per image.
    await b.work.complete({ imageId: img[2]! });
    expect(await db.assignment.count({ where: { userId: bea.id, status: "completed" } })).toBe(3);
  });

  it("leases the next image ahead while the current one stays leased, and shares completion", async () => {
    const a = callerFor(ann);
    const b = callerFor(bea);
    // A project of its own: the test above completed every image of the shared one.
    const { projectId, imageIds: img } = await makeProject(
      "ahead",
      ["ready", "ready", "ready"],
      [ann.id, bea.id],
    );
    // Leases last as long as the project says.
    await prisma().project.update({ where: { id: projectId }, data: { assignmentLeaseSecs: 120 } });
    const before = Date.now();
    const lease = await a.work.next({ projectId });
    expect(lease?.imageId).toBe(img[0]);
    expect(lease!.expiresAt.getTime() - before).toBeGreaterThanOrEqual(119_000);
    expect(lease!.expiresAt.getTime() - before).toBeLessThanOrEqual(125_000);
    // The page prefetches: the next image is leased while image 0 is still on screen (and still hers).
    const ahead = await a.work.next({ projectId, skipImageId: img[0] });
    expect(ahead?.imageId).toBe(img[1]);
    expect((await a.work.current({ projectId })).map((l) => l.imageId)).toEqual([img[0], img[1]]);
    expect((await a.work.next({ projectId, skipImageId: img[0] }))?.imageId).toBe(img[1]);
    // An admin pressing "next image" on an image nobody leased to them retires nothing.
    const admin = await makeUser("boss");
    expect(await callerFor({ id: admin.id, role: "admin" }).work.complete({ imageId: img[2]! })).toEqual({
      imageId: img[2],
      completedAt: null,
    });
    // Bea gets neither of Ann's images.
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[2]);
    // "Next image": complete the current one, move to the one leased ahead.
    await a.work.complete({ imageId: img[0]! });
    expect((await a.work.next({ projectId, skipImageId: img[0] }))?.imageId).toBe(img[1]);
    await a.work.complete({ imageId: img[1]! });
    await b.work.complete({ imageId: img[2]! });
    // An image one annotator completed is done for everyone.
    expect(await a.work.next({ projectId })).toBeNull();
    expect(await b.work.next({ projectId })).toBeNull();
    expect(await a.work.current({ projectId })).toEqual([]);
  });

  it("is closed to non-members and anonymous callers", async () => {
    const notMember = await callerFor(outsider)
      .work.next({ projectId })
      .catch((e: unknown) => e);
    expect(notMember).toBeInstanceOf(TRPCError);
    expect((notMember as TRPCError).code).toBe("NOT_FOUND");
    await expect(callerFor(outsider).work.complete({ imageId: img[0]! })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(callerFor(outsider).work.current({ projectId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(callerFor(null).work.next({ projectId })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    // Admins may use any project's queue.
    expect(await callerFor({ id: outsider.id, role: "admin" }).work.current({ projectId })).toEqual([]);
  });
});
