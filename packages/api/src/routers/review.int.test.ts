import { randomUUID } from "node:crypto";
import { disconnectPrisma, prisma, type Role } from "@sas/db";
import { createMask, encodeMask } from "@sas/sa1b";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterInputs } from "../root";
import { closeMaskEvents, type MaskEvent } from "../services/mask-events";
import { callerAs, createTestImage, createTestUsers, rectRle, rejection } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);
const WIDTH = 20;
const HEIGHT = 10;
let projectId: string;
let imageId: string;
type Who = "admin" | "manager" | "reviewer" | "annotator" | "outsider";
const users: Record<Who, { id: string; role: Role }> = {
  admin: { id: "", role: "admin" },
  manager: { id: "", role: "manager" },
  reviewer: { id: "", role: "annotator" },
  annotator: { id: "", role: "annotator" },
  outsider: { id: "", role: "manager" },
};

const callerFor = (who: Who | null) => callerAs(who ? users[who] : null);

const rect = (x0: number, y0: number, x1: number, y1: number) => rectRle(WIDTH, HEIGHT, x0, y0, x1, y1);

async function saveMask(rle = rect(0, 0, 9, 9)) {
  const input: RouterInputs["annotate"]["saveMask"] = {
    id: randomUUID(),
    imageId,
    rle,
    predictedIou: 0.9,
    stabilityScore: 0.95,
    pointCoords: [[2, 2]],
    prompts: [{ type: "point", x: 2, y: 2, label: 1 }],
    label: "thing",
    timing: {
      startedAt: new Date(Date.now() - 5000),
      finishedAt: new Date(),
      activeMs: 4000,
      clicks: 1,
      boxes: 0,
      brushStrokes: 0,
      undos: 0,
    },
  };
  return callerFor("annotator").annotate.saveMask(input);
}

beforeAll(async () => {
  const db = prisma();
  const project = await db.project.create({ data: { name: `review-${unique}` } });
  projectId = project.id;
  await createTestUsers(users, unique);
  await db.projectMember.createMany({
    data: [
      { projectId, userId: users.manager.id, role: "manager" },
      { projectId, userId: users.reviewer.id, role: "reviewer" },
      { projectId, userId: users.annotator.id, role: "annotator" },
    ],
  });
  imageId = await createTestImage({ projectId, filename: "review.jpg", width: WIDTH, height: HEIGHT });
  // The annotator works on the image under a lease, as the product hands images out.
  await db.assignment.create({
    data: {
      imageId,
      userId: users.annotator.id,
      status: "active",
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
});

afterAll(async () => {
  await closeMaskEvents();
  await disconnectPrisma();
});

describe("review.decide", () => {
  it("approves: decision, review row and audit entry, version bumped", async () => {
    const mask = await saveMask();
    const view = await callerFor("reviewer").review.decide({
      maskId: mask.id,
      version: 1,
      decision: "approved",
    });
    expect(view).toMatchObject({ id: mask.id, status: "accepted", reviewDecision: "approved", version: 2 });
    const rows = await prisma().maskReview.findMany({ where: { maskId: mask.id } });
    expect(rows).toMatchObject([
      { decision: "approved", reviewerId: users.reviewer.id, iou: null, originalRle: null },
    ]);
    const entries = await prisma().auditLog.findMany({ where: { targetId: mask.id } });
    expect(entries).toMatchObject([{ action: "mask.reviewed", actorId: users.reviewer.id, projectId }]);
  });

  it("rejects only with a reason", async () => {
    const mask = await saveMask();
    const noReason = await rejection(
      callerFor("manager").review.decide({ maskId: mask.id, version: 1, decision: "rejected", reason: " " }),
    );
    expect(noReason.code).toBe("BAD_REQUEST");
    const view = await callerFor("manager").review.decide({
      maskId: mask.id,
      version: 1,
      decision: "rejected",
      reason: "covers two objects",
    });
    expect(view).toMatchObject({ status: "rejected", reviewDecision: "rejected", version: 2 });
    expect(await prisma().maskReview.findFirst({ where: { maskId: mask.id } })).toMatchObject({
      reason: "covers two objects",
    });
  });

  it("corrects: the mask takes the new pixels, the original and IoU(original, corrected) are kept", async () => {
    const original = rect(0, 0, 9, 9); // 100 px
    const mask = await saveMask(original);
    const fixed = rect(0, 0, 9, 7); // 80 px, all inside the original: IoU 0.8
    const view = await callerFor("reviewer").review.decide({
      maskId: mask.id,
      version: 1,
      decision: "corrected",
      rle: fixed,
    });
    expect(view).toMatchObject({
      rle: fixed,
      area: 80,
      bbox: [0, 0, 9, 7],
      reviewDecision: "corrected",
      version: 2,
    });
    const review = await prisma().maskReview.findFirstOrThrow({ where: { maskId: mask.id } });
    expect(review.originalRle).toEqual(original);
    expect(review.iou).toBeCloseTo(0.8, 10);

    const wrongSize = await rejection(
      callerFor("reviewer").review.decide({
        maskId: mask.id,
        version: 2,
        decision: "corrected",
        rle: encodeMask(createMask(5, 5)),
      }),
    );
    expect(wrongSize.code).toBe("BAD_REQUEST");
  });

  it("refuses a stale version and writes nothing", async () => {
    const mask = await saveMask();
    await callerFor("annotator").annotate.updateMask({ id: mask.id, version: 1, label: "renamed" });
    const stale = await rejection(
      callerFor("reviewer").review.decide({ maskId: mask.id, version: 1, decision: "approved" }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(await prisma().maskReview.count({ where: { maskId: mask.id } })).toBe(0);
    expect((await prisma().mask.findUniqueOrThrow({ where: { id: mask.id } })).reviewDecision).toBeNull();
  });

  it("is for reviewers, managers and admins only", async () => {
    const mask = await saveMask();
    const input = { maskId: mask.id, version: 1, decision: "approved" as const };
    expect((await rejection(callerFor("annotator").review.decide(input))).code).toBe("FORBIDDEN");
    expect((await rejection(callerFor("outsider").review.decide(input))).code).toBe("NOT_FOUND");
    expect((await rejection(callerFor(null).review.decide(input))).code).toBe("UNAUTHORIZED");
    expect((await rejection(callerFor("annotator").review.queue({ projectId }))).code).toBe("FORBIDDEN");
    await expect(callerFor("admin").review.decide(input)).resolves.toMatchObject({
      reviewDecision: "approved",
    });
  });
});

describe("review.queue and review.stats", () => {
  it("lists images handed in with unreviewed masks and summarises decisions and correction quality", async () => {
    await saveMask();
    // Still being worked on: not for review yet, however many masks wait.
    expect(await callerFor("reviewer").review.queue({ projectId })).toEqual([]);
    // Handed in (set directly: a submit is refused while the mask rejected above waits for its fix).
    await prisma().image.update({ where: { id: imageId }, data: { workflowState: "needs_changes" } });
    const queue = await callerFor("reviewer").review.queue({ projectId });
    expect(queue).toEqual([{ imageId, filename: "review.jpg", unreviewed: expect.any(Number) }]);
    expect(queue[0]!.unreviewed).toBeGreaterThanOrEqual(1);
    const stats = await callerFor("manager").review.stats({ projectId });
    expect(stats.corrections).toBe(1);
    expect(stats.meanCorrectionIou).toBeCloseTo(0.8, 10);
    expect(stats.shareAboveGoodIou).toBe(0);
    expect(stats.histogram[8]).toMatchObject({ from: 0.8, count: 1 });
    expect(stats.approved).toBeGreaterThanOrEqual(2);
    expect(stats.rejected).toBe(1);
  });
});

describe("annotate.events", () => {
  it("streams saves, edits and reviews on an image to whoever may view it", async () => {
    const stream = await callerFor("manager").annotate.events({ imageId });
    const iterator = (stream as AsyncIterable<MaskEvent>)[Symbol.asyncIterator]();
    const first = iterator.next();
    // The subscription is live once the generator has subscribed; give it a moment.
    await new Promise((r) => setTimeout(r, 200));
    const mask = await saveMask();
    const event = await Promise.race([
      first,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event within 5 s")), 5000)),
    ]);
    expect(event.value).toMatchObject({
      type: "saved",
      imageId,
      maskId: mask.id,
      version: 1,
      actorId: users.annotator.id,
    });
    const second = iterator.next();
    await callerFor("reviewer").review.decide({ maskId: mask.id, version: 1, decision: "approved" });
    expect((await second).value).toMatchObject({ type: "reviewed", maskId: mask.id, version: 2 });
    // Ending the iteration (the client going away) unsubscribes.
    await iterator.return?.();
  });

  it("is closed to people who may not view the image", async () => {
    const stream = await callerFor("outsider")
      .annotate.events({ imageId })
      .then((s) => (s as AsyncIterable<MaskEvent>)[Symbol.asyncIterator]().next())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(stream).toBeInstanceOf(TRPCError);
    expect((stream as TRPCError).code).toBe("NOT_FOUND");
  });
});
