import { ASSIGNMENT_LEASE_MS, disconnectPrisma, type ImageStatus, prisma } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerAs, createTestImage, rectRle, rejection } from "../testing/fixtures";

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

  it("hands out, extends, expires, submits and runs out", async () => {
    const a = callerFor(ann);
    const b = callerFor(bea);
    const db = prisma();

    const before = Date.now();
    const first = await a.work.next({ projectId });
    expect(first?.imageId).toBe(img[0]);
    expect(first!.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + ASSIGNMENT_LEASE_MS);

    // The caller's own lease comes back, extended.
    const again = await a.work.next({ projectId });
    expect(again?.imageId).toBe(img[0]);
    expect(again!.expiresAt!.getTime()).toBeGreaterThanOrEqual(first!.expiresAt!.getTime());
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
    // Images here have no masks: handing one in takes the explicit "nothing to label".
    await expect(b.work.submit({ imageId: img[1]! })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await b.work.submit({ imageId: img[1]!, confirmEmpty: true })).toMatchObject({
      imageId: img[1],
      state: "done",
    });
    // The image Ann let go is still in progress (hers, unfinished) and goes to the next caller.
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[0]);
    const annRows = await db.assignment.findMany({ where: { userId: ann.id }, select: { status: true } });
    expect(annRows).toEqual([{ status: "expired" }]);

    // Submitted and skipped images are not handed out again.
    await b.work.submit({ imageId: img[0]!, confirmEmpty: true });
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[2]);
    await b.work.skip({ imageId: img[2]!, reason: "blurred" });
    // Image 1 is done, 0 done, 2 skipped, and the embedding image is not ready: nothing left for her.
    expect(await b.work.next({ projectId })).toBeNull();
    // Submitting twice is refused (the image is no longer open), and keeps one completed row per image.
    await expect(b.work.submit({ imageId: img[2]!, confirmEmpty: true })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await db.assignment.count({ where: { userId: bea.id, status: "completed" } })).toBe(3);
  });

  it("leases the next image ahead while the current one stays leased; moving on never submits", async () => {
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
    expect(lease!.expiresAt!.getTime() - before).toBeGreaterThanOrEqual(119_000);
    expect(lease!.expiresAt!.getTime() - before).toBeLessThanOrEqual(125_000);
    // The page prefetches: the next image is leased while image 0 is still on screen (and still hers).
    const ahead = await a.work.next({ projectId, skipImageId: img[0] });
    expect(ahead?.imageId).toBe(img[1]);
    expect((await a.work.current({ projectId })).map((l) => l.imageId)).toEqual([img[0], img[1]]);
    expect((await a.work.next({ projectId, skipImageId: img[0] }))?.imageId).toBe(img[1]);
    // Moving on ("next image") leaves the image on screen open: in progress, still Ann's.
    const state = async (id: string) =>
      (await prisma().image.findUniqueOrThrow({ where: { id }, select: { workflowState: true } }))
        .workflowState;
    expect(await state(img[0]!)).toBe("in_progress");
    // An annotator cannot hand in an image someone else holds.
    await prisma().projectMember.update({
      where: { projectId_userId: { projectId, userId: bea.id } },
      data: { role: "reviewer" },
    });
    await expect(b.work.submit({ imageId: img[0]!, confirmEmpty: true })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await prisma().projectMember.update({
      where: { projectId_userId: { projectId, userId: bea.id } },
      data: { role: "annotator" },
    });
    // Bea gets neither of Ann's images.
    expect((await b.work.next({ projectId }))?.imageId).toBe(img[2]);
    // Submitting is explicit: Ann hands in the current one, then moves to the one leased ahead.
    await a.work.submit({ imageId: img[0]!, confirmEmpty: true });
    expect((await a.work.next({ projectId, skipImageId: img[0] }))?.imageId).toBe(img[1]);
    await a.work.submit({ imageId: img[1]!, confirmEmpty: true });
    await b.work.submit({ imageId: img[2]!, confirmEmpty: true });
    // An image one annotator handed in is out of the pool for everyone.
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
    await expect(callerFor(outsider).work.submit({ imageId: img[0]! })).rejects.toMatchObject({
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

describe("the workflow through the API", () => {
  it("maps refusals to 4xx with their message, closes the review loop, and the audit and table show it", async () => {
    const [annotator, reviewer, manager] = [
      await makeUser("wf-ann"),
      await makeUser("wf-rev"),
      await makeUser("wf-mgr"),
    ];
    const { projectId, imageIds: img } = await makeProject("wf-api", ["ready", "ready"], [annotator.id]);
    await prisma().projectMember.createMany({
      data: [
        { projectId, userId: reviewer.id, role: "reviewer" },
        { projectId, userId: manager.id, role: "manager" },
      ],
    });
    const a = callerFor(annotator);
    const r = callerFor(reviewer);
    const m = callerFor(manager);
    await m.work.bulkAssign({ projectId, imageIds: img, userId: annotator.id });

    // An empty image: refused without the confirmation, with the message the page shows.
    const empty = await rejection(a.work.submit({ imageId: img[0]! }));
    expect([empty.code, empty.message]).toEqual([
      "BAD_REQUEST",
      "this image has no masks: confirm that there is nothing to label to submit it empty",
    ]);
    await a.work.skip({ imageId: img[0]!, reason: "out of focus" });
    expect((await rejection(a.work.skip({ imageId: img[0]!, reason: "again" }))).code).toBe("CONFLICT");

    const mask = await a.annotate.saveMask({
      id: crypto.randomUUID(),
      imageId: img[1]!,
      rle: rectRle(64, 48, 2, 2, 20, 20),
      predictedIou: 0.9,
      stabilityScore: 0.9,
      pointCoords: [[5, 5]],
      prompts: [{ type: "point", x: 5, y: 5, label: 1 }],
      label: "thing",
      timing: {
        startedAt: new Date("2026-01-01T00:00:00Z"),
        finishedAt: new Date("2026-01-01T00:00:03Z"),
        activeMs: 3000,
        clicks: 1,
        boxes: 0,
        brushStrokes: 0,
        undos: 0,
      },
    });
    expect(await a.work.submit({ imageId: img[1]! })).toMatchObject({ state: "submitted" });
    // Reviewers look: they do not hand images in.
    expect((await r.work.state({ imageId: img[1]! })).mayMove).toBe(false);

    const rejected = await r.review.decide({
      maskId: mask.id,
      version: mask.version,
      decision: "rejected",
      reason: "too loose",
    });
    expect(await a.work.needsChanges({ projectId })).toEqual([
      expect.objectContaining({ maskId: mask.id, reason: "too loose" }),
    ]);
    const page = await a.annotate.image({ imageId: img[1]! });
    expect(page.masks[0]).toMatchObject({
      reviewDecision: "rejected",
      reviewReason: "too loose",
      reviewerName: "wf-rev",
    });
    const fixed = await a.annotate.updateMask({
      id: mask.id,
      version: rejected.version,
      label: "thing, tighter",
    });
    expect((await a.work.state({ imageId: img[1]! })).state).toBe("in_review");
    const approved = await r.review.decide({ maskId: mask.id, version: fixed.version, decision: "approved" });
    expect((await a.work.state({ imageId: img[1]! })).state).toBe("done");

    // The approved mask: its author's delete is a 403 with a clear message; the reviewer's goes through.
    const refused = await rejection(a.annotate.deleteMask({ id: mask.id, version: approved.version }));
    expect([refused.code, refused.message]).toEqual([
      "FORBIDDEN",
      "this mask was approved in review: only a reviewer or a manager may change or delete it",
    ]);
    const deleted = await r.annotate.deleteMask({ id: mask.id, version: approved.version });
    await r.annotate.restoreMask({ id: mask.id, version: deleted.version });

    // The table: states, skip reason, masks and time; the reviewer may read it, the annotator may not.
    const table = await r.image.table({ projectId, sort: "filename" });
    expect(
      table.items.map((row) => [row.filename, row.state, row.skipReason, row.masks, row.activeMs]),
    ).toEqual([
      ["wf-api-0.jpg", "skipped", "out of focus", 0, 0],
      ["wf-api-1.jpg", "done", null, 1, 3000],
    ]);
    expect((await rejection(a.image.table({ projectId }))).code).toBe("FORBIDDEN");
    // The manager reopens the skipped one.
    expect(await m.work.reopen({ projectId, imageIds: [img[0]!] })).toEqual({ reopened: [img[0]] });
    expect((await m.image.table({ projectId, states: ["new"] })).items.map((row) => row.id)).toEqual([
      img[0],
    ]);

    // The audit: every step, filterable by action and user; the annotator may not read it.
    const log = await m.audit.project({ projectId });
    expect(new Set(log.items.map((e) => e.action))).toEqual(
      new Set([
        "assignment.reassigned",
        "image.skipped",
        "image.submitted",
        "mask.reviewed",
        "image.state_changed",
        "mask.change_refused",
        "mask.deleted",
        "mask.restored",
        "image.reopened",
      ]),
    );
    const skips = await m.audit.project({ projectId, action: "image.skipped" });
    expect(skips.items.map((e) => [e.actorName, (e.details as { reason: string }).reason])).toEqual([
      ["wf-ann", "out of focus"],
    ]);
    const byReviewer = await m.audit.project({ projectId, actorId: reviewer.id });
    expect(new Set(byReviewer.items.map((e) => e.action))).toEqual(
      new Set(["mask.reviewed", "image.state_changed", "mask.deleted", "mask.restored"]),
    );
    expect((await rejection(a.audit.project({ projectId }))).code).toBe("FORBIDDEN");
  });
});
