/**
 * The image workflow against the real database: every transition (lease, submit, skip, reopen, reject,
 * fix, approve), the rules that refuse moves, the protection of approved masks (refusals audited), and
 * the image table's filters and keyset pages.
 */
import { randomUUID } from "node:crypto";
import { type CocoRle, encodeMask } from "@sas/sa1b";
import { rectMask } from "@sas/sa1b/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectPrisma, prisma } from "../client";
import type { ImageWorkflowState } from "../generated/prisma/client";
import { expireLeases, nextLease, reassignImage } from "./assignments";
import {
  deleteMask,
  MaskDomainError,
  restoreMask,
  reviewMask,
  saveManualMask,
  updateMask,
} from "./masks/index";
import { imageWorkflow, needsChanges, reopenImages, skipImage, submitImage, WorkflowError } from "./workflow";
import { imageTable, workflowCounts } from "./workflow-table";

const W = 64;
const H = 48;
const unique = Math.random().toString(36).slice(2);
const rect = (x0: number, y0: number, x1: number, y1: number): CocoRle =>
  encodeMask(rectMask(W, H, x0, y0, x1, y1));

const timing = () => ({
  startedAt: new Date("2026-01-01T00:00:00Z"),
  finishedAt: new Date("2026-01-01T00:00:07Z"),
  activeMs: 7000,
  clicks: 1,
  boxes: 0,
  brushStrokes: 0,
  undos: 0,
});

async function user(name: string) {
  return prisma().user.create({
    data: { email: `${name}-${unique}@workflow.test`, name, role: "annotator" },
  });
}

async function project(name: string, members: [string, "manager" | "reviewer" | "annotator"][]) {
  const p = await prisma().project.create({ data: { name: `workflow-${name}-${unique}` } });
  await prisma().projectMember.createMany({
    data: members.map(([userId, role]) => ({ projectId: p.id, userId, role })),
  });
  return p.id;
}

async function image(projectId: string, filename: string, i: number) {
  const row = await prisma().image.create({
    data: {
      projectId,
      filename,
      mimeType: "image/jpeg",
      width: W,
      height: H,
      sizeBytes: 1000n,
      sha256: randomUUID().replaceAll("-", "").padEnd(64, "0"),
      storageKey: `images/test/${randomUUID()}.jpg`,
      status: "ready",
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    },
  });
  return row.id;
}

const stateOf = async (id: string) =>
  (
    await prisma().image.findUniqueOrThrow({
      where: { id },
      select: { workflowState: true, skipReason: true, annotatorId: true },
    })
  ).workflowState;

const audits = (projectId: string, action: string) =>
  prisma().auditLog.findMany({ where: { projectId, action }, orderBy: { createdAt: "asc" } });

async function refusal(promise: Promise<unknown>): Promise<WorkflowError | MaskDomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof WorkflowError || error instanceof MaskDomainError)) {
    throw new Error(`expected a refusal, got ${String(error)}`);
  }
  return error;
}

let ann: { id: string };
let bea: { id: string };
let rev: { id: string };
let boss: { id: string };

beforeAll(async () => {
  [ann, bea, rev, boss] = await Promise.all([user("ann"), user("bea"), user("rev"), user("boss")]);
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("image workflow", () => {
  it("leases into in progress; Next never submits; an empty image is submitted only when confirmed", async () => {
    const db = prisma();
    const pid = await project("empty", [
      [ann.id, "annotator"],
      [bea.id, "annotator"],
    ]);
    const [a, b] = [await image(pid, "a.jpg", 0), await image(pid, "b.jpg", 1)];
    expect(await stateOf(a)).toBe("new");
    const lease = await nextLease(db, { projectId: pid, userId: ann.id });
    expect(lease?.imageId).toBe(a);
    expect(
      await db.image.findUniqueOrThrow({
        where: { id: a },
        select: { workflowState: true, annotatorId: true },
      }),
    ).toEqual({ workflowState: "in_progress", annotatorId: ann.id });
    // Moving on leases the next image; the first stays in progress, still hers.
    expect((await nextLease(db, { projectId: pid, userId: ann.id, skipImageId: a }))?.imageId).toBe(b);
    expect(await stateOf(a)).toBe("in_progress");

    const annActor = { userId: ann.id, canManage: false };
    const empty = await refusal(submitImage(db, annActor, { imageId: a }));
    expect([empty.code, empty.message]).toEqual([
      "BAD_REQUEST",
      "this image has no masks: confirm that there is nothing to label to submit it empty",
    ]);
    expect(await stateOf(a)).toBe("in_progress");
    // Someone else's image: refused.
    expect(
      (
        await refusal(
          submitImage(db, { userId: bea.id, canManage: false }, { imageId: a, confirmEmpty: true }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    // The workflow bar offers the move to those the rule lets through.
    expect((await imageWorkflow(db, a, annActor)).mayMove).toBe(true);
    expect((await imageWorkflow(db, a, { userId: bea.id, canManage: false })).mayMove).toBe(false);
    expect((await imageWorkflow(db, a, { userId: bea.id, canManage: true })).mayMove).toBe(true);
    expect(await submitImage(db, annActor, { imageId: a, confirmEmpty: true })).toMatchObject({
      state: "done",
    });
    // Handed in: out of the pool for everyone, and not open any more.
    expect((await refusal(submitImage(db, annActor, { imageId: a, confirmEmpty: true }))).code).toBe(
      "CONFLICT",
    );
    expect(await nextLease(db, { projectId: pid, userId: bea.id })).toBeNull();
    const [submitted] = await audits(pid, "image.submitted");
    expect(submitted).toMatchObject({
      actorId: ann.id,
      targetId: a,
      details: { empty: true, to: "done", masks: 0 },
    });
  });

  it("skips with a reason; a manager reopens it back into the pool; each audited", async () => {
    const db = prisma();
    const pid = await project("skip", [
      [ann.id, "annotator"],
      [bea.id, "annotator"],
      [boss.id, "manager"],
    ]);
    const a = await image(pid, "a.jpg", 0);
    await nextLease(db, { projectId: pid, userId: ann.id });
    const actor = { userId: ann.id, canManage: false };
    expect((await refusal(skipImage(db, actor, { imageId: a, reason: "  " }))).code).toBe("BAD_REQUEST");
    expect(await skipImage(db, actor, { imageId: a, reason: "blurred" })).toMatchObject({
      state: "skipped",
      skipReason: "blurred",
    });
    expect(await nextLease(db, { projectId: pid, userId: bea.id })).toBeNull();
    expect((await audits(pid, "image.skipped"))[0]).toMatchObject({ details: { reason: "blurred" } });

    // Reopening an image of another project is refused, all or nothing.
    const elsewhere = await image(await project("skip-other", []), "x.jpg", 0);
    expect(
      (await refusal(reopenImages(db, { userId: boss.id }, { projectId: pid, imageIds: [a, elsewhere] })))
        .code,
    ).toBe("NOT_FOUND");
    expect(await stateOf(a)).toBe("skipped");
    expect(await reopenImages(db, { userId: boss.id }, { projectId: pid, imageIds: [a] })).toEqual({
      reopened: [a],
    });
    expect(
      await db.image.findUniqueOrThrow({
        where: { id: a },
        select: { workflowState: true, skipReason: true, annotatorId: true },
      }),
    ).toEqual({ workflowState: "new", skipReason: null, annotatorId: null });
    expect((await audits(pid, "image.reopened"))[0]).toMatchObject({
      actorId: boss.id,
      details: { from: "skipped" },
    });
    // Back in the pool.
    expect((await nextLease(db, { projectId: pid, userId: bea.id }))?.imageId).toBe(a);
  });

  it("keeps a manager's assignment until it is released or the image submitted: no expiry", async () => {
    const db = prisma();
    const pid = await project("assign", [
      [ann.id, "annotator"],
      [bea.id, "annotator"],
    ]);
    const a = await image(pid, "a.jpg", 0);
    const result = await reassignImage(db, { imageId: a, userId: ann.id, actorId: boss.id });
    expect(result.lease?.expiresAt).toBeNull();
    expect(await stateOf(a)).toBe("in_progress");
    // Two days later the sweep leaves it, nobody else gets it, and Ann's "next" still returns it.
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);
    await expireLeases(db, later);
    expect(await db.assignment.findFirstOrThrow({ where: { imageId: a }, select: { status: true } })).toEqual(
      {
        status: "active",
      },
    );
    expect(await nextLease(db, { projectId: pid, userId: bea.id, now: later })).toBeNull();
    expect(await nextLease(db, { projectId: pid, userId: ann.id, now: later })).toEqual({
      imageId: a,
      expiresAt: null,
    });
    // Released: back to new and to the pool.
    await reassignImage(db, { imageId: a, userId: null, actorId: boss.id });
    expect(await stateOf(a)).toBe("new");
  });

  it("keeps the image's stored lease end in step with every assignment write, and re-leases a lapsed one before the sweep", async () => {
    const db = prisma();
    const pid = await project("leased-until", [
      [ann.id, "annotator"],
      [bea.id, "annotator"],
    ]);
    const a = await image(pid, "a.jpg", 0);
    const b = await image(pid, "b.jpg", 1);
    const leasedUntil = async (id: string) =>
      (await db.image.findUniqueOrThrow({ where: { id }, select: { leasedUntil: true } })).leasedUntil;
    const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
    const lease = await nextLease(db, { projectId: pid, userId: ann.id, now, leaseMs: 60_000 });
    expect(lease).toEqual({ imageId: a, expiresAt: new Date(now.getTime() + 60_000) });
    expect(await leasedUntil(a)).toEqual(lease?.expiresAt);
    expect(await leasedUntil(b)).toBeNull();
    // Ann's lease ran out and no sweep has run: Bea gets the older image, and Ann's lease is recorded as expired.
    const later = new Date(now.getTime() + 120_000);
    expect(await nextLease(db, { projectId: pid, userId: bea.id, now: later, leaseMs: 60_000 })).toEqual({
      imageId: a,
      expiresAt: new Date(later.getTime() + 60_000),
    });
    expect(await db.assignment.count({ where: { imageId: a, userId: ann.id, status: "expired" } })).toBe(1);
    expect(await leasedUntil(a)).toEqual(new Date(later.getTime() + 60_000));
    // A manager's assignment never ends; releasing it frees the image.
    await reassignImage(db, { imageId: b, userId: ann.id, actorId: boss.id });
    expect(await leasedUntil(b)).toEqual(new Date(Date.UTC(9999, 11, 31)));
    await reassignImage(db, { imageId: b, userId: null, actorId: boss.id });
    expect(await leasedUntil(b)).toBeNull();
    // Submitting ends the lease; so does the sweep for one that ran out.
    await submitImage(
      db,
      { userId: bea.id, canManage: false },
      { imageId: a, confirmEmpty: true, now: later },
    );
    expect(await leasedUntil(a)).toBeNull();
    await nextLease(db, { projectId: pid, userId: ann.id, now, leaseMs: 60_000 });
    expect(await leasedUntil(b)).not.toBeNull();
    await expireLeases(db, later);
    expect(await leasedUntil(b)).toBeNull();
  });

  it("closes the review loop: reject → needs changes with the reason; a fix → in review; approve → done", async () => {
    const db = prisma();
    const pid = await project("review", [
      [ann.id, "annotator"],
      [rev.id, "reviewer"],
    ]);
    const a = await image(pid, "a.jpg", 0);
    await nextLease(db, { projectId: pid, userId: ann.id });
    const annEditor = { userId: ann.id, canEditAll: false, canReview: false };
    const saved = await saveManualMask(
      db,
      { userId: ann.id },
      {
        id: randomUUID(),
        imageId: a,
        rle: rect(2, 2, 20, 20),
        predictedIou: 0.9,
        stabilityScore: 0.95,
        pointCoords: [[5, 5]],
        prompts: [{ type: "point", x: 5, y: 5, label: 1 }],
        label: "dog",
        timing: timing(),
      },
    );
    await submitImage(db, { userId: ann.id, canManage: false }, { imageId: a });
    expect(await stateOf(a)).toBe("submitted");

    const rejected = await reviewMask(
      db,
      { userId: rev.id },
      {
        maskId: saved.id,
        version: saved.version,
        decision: "rejected",
        reason: "misses the tail",
      },
    );
    expect(rejected).toMatchObject({
      status: "rejected",
      reviewDecision: "rejected",
      reviewReason: "misses the tail",
    });
    expect(await stateOf(a)).toBe("needs_changes");
    expect(await needsChanges(db, { userId: ann.id, projectId: pid })).toEqual([
      expect.objectContaining({ maskId: saved.id, imageId: a, reason: "misses the tail", label: "dog" }),
    ]);
    // Handing it in again with the rejected mask as is: refused.
    expect(
      (await refusal(submitImage(db, { userId: ann.id, canManage: false }, { imageId: a }))).message,
    ).toMatch(/fix or delete the masks a reviewer rejected/);

    // The fix (new pixels): back to review, unreviewed, off her list.
    const fixed = await updateMask(db, annEditor, {
      id: saved.id,
      version: rejected.version,
      rle: rect(2, 2, 30, 20),
    });
    expect(fixed).toMatchObject({ status: "accepted", reviewDecision: null });
    expect(await stateOf(a)).toBe("in_review");
    expect(await needsChanges(db, { userId: ann.id, projectId: pid })).toEqual([]);

    const approved = await reviewMask(
      db,
      { userId: rev.id },
      {
        maskId: saved.id,
        version: fixed.version,
        decision: "approved",
        reason: "",
      },
    );
    expect(await stateOf(a)).toBe("done");
    const moves = (await audits(pid, "image.state_changed")).map((e) => (e.details as { to: string }).to);
    expect(moves).toEqual(["needs_changes", "in_review", "done"]);

    // Approved: its author may neither change nor delete it; the refusal is audited and nothing changes.
    for (const attempt of [
      () => deleteMask(db, annEditor, { id: saved.id, version: approved.version }),
      () => updateMask(db, annEditor, { id: saved.id, version: approved.version, label: "cat" }),
    ]) {
      const refused = await refusal(attempt());
      expect([refused.code, refused.message]).toEqual([
        "FORBIDDEN",
        "this mask was approved in review: only a reviewer or a manager may change or delete it",
      ]);
    }
    expect(
      await db.mask.findUniqueOrThrow({ where: { id: saved.id }, select: { status: true, label: true } }),
    ).toEqual({
      status: "accepted",
      label: "dog",
    });
    expect(
      (await audits(pid, "mask.change_refused")).map((e) => [
        e.actorId,
        (e.details as { attempt: string }).attempt,
      ]),
    ).toEqual([
      [ann.id, "deleted"],
      [ann.id, "update"],
    ]);

    // A reviewer may delete it (audited) and undo that.
    const revEditor = { userId: rev.id, canEditAll: false, canReview: true };
    const deleted = await deleteMask(db, revEditor, { id: saved.id, version: approved.version });
    expect(deleted.status).toBe("deleted");
    const restored = await restoreMask(db, revEditor, { id: saved.id, version: deleted.version });
    expect(restored).toMatchObject({ status: "accepted", reviewDecision: "approved" });
    expect((await audits(pid, "mask.deleted")).map((e) => e.actorId)).toEqual([rev.id]);
    expect((await audits(pid, "mask.restored")).map((e) => e.actorId)).toEqual([rev.id]);
  });

  it("brings a deleted rejected mask back still rejected", async () => {
    const db = prisma();
    const pid = await project("undo", [[ann.id, "annotator"]]);
    const a = await image(pid, "a.jpg", 0);
    const saved = await saveManualMask(
      db,
      { userId: ann.id },
      {
        id: randomUUID(),
        imageId: a,
        rle: rect(0, 0, 10, 10),
        predictedIou: null,
        stabilityScore: null,
        pointCoords: [],
        prompts: [],
        label: "",
        timing: timing(),
      },
    );
    const rejected = await reviewMask(
      db,
      { userId: rev.id },
      {
        maskId: saved.id,
        version: 1,
        decision: "rejected",
        reason: "wrong object",
      },
    );
    const editor = { userId: ann.id, canEditAll: false };
    const deleted = await deleteMask(db, editor, { id: saved.id, version: rejected.version });
    expect((await restoreMask(db, editor, { id: saved.id, version: deleted.version })).status).toBe(
      "rejected",
    );
  });
});

describe("image table", () => {
  let pid: string;
  const ids: Record<string, string> = {};
  const states: Record<string, ImageWorkflowState> = {
    "a.jpg": "new",
    "b.jpg": "in_progress",
    "c.jpg": "submitted",
    "d.jpg": "skipped",
    "e.jpg": "done",
    "f.jpg": "needs_changes",
    "g.jpg": "new",
  };

  beforeAll(async () => {
    const db = prisma();
    pid = await project("table", [
      [ann.id, "annotator"],
      [bea.id, "annotator"],
    ]);
    // Created in reverse name order, so upload order and name order differ.
    const names = Object.keys(states);
    for (const [i, name] of [...names].reverse().entries()) ids[name] = await image(pid, name, i);
    const mask = async (
      name: string,
      label: string,
      extra: { status?: "accepted" | "rejected"; reviewDecision?: "approved" | "rejected" | null } = {},
    ) => {
      const saved = await saveManualMask(
        db,
        { userId: ann.id },
        {
          id: randomUUID(),
          imageId: ids[name]!,
          rle: rect(0, 0, 8, 8),
          predictedIou: null,
          stabilityScore: null,
          pointCoords: [],
          prompts: [],
          label,
          timing: timing(),
        },
      );
      if (extra.status || extra.reviewDecision !== undefined) {
        await db.mask.update({ where: { id: saved.id }, data: { ...extra } });
      }
      return saved.id;
    };
    await mask("c.jpg", "dog");
    await mask("c.jpg", "cat");
    await mask("e.jpg", "dog", { reviewDecision: "approved" });
    await mask("f.jpg", "dog", { status: "rejected", reviewDecision: "rejected" });
    const gone = await mask("b.jpg", "dog");
    await db.mask.update({ where: { id: gone }, data: { status: "deleted" } });
    // States last: saving masks moves handed-in images on by their reviews.
    for (const [name, state] of Object.entries(states)) {
      const annotatorId = state === "new" ? null : name === "c.jpg" ? bea.id : ann.id;
      await db.image.update({
        where: { id: ids[name]! },
        data: {
          workflowState: state,
          annotatorId,
          workflowAt: new Date(Date.UTC(2026, 1, 1, 0, 0, names.indexOf(name))),
        },
      });
    }
  });

  const names = async (q: Partial<Parameters<typeof imageTable>[1]> = {}) =>
    (await imageTable(prisma(), { projectId: pid, ...q })).items.map((r) => r.filename);

  it("filters by state, annotator, masks, review outcome and label", async () => {
    expect(await names({ sort: "filename" })).toEqual([
      "a.jpg",
      "b.jpg",
      "c.jpg",
      "d.jpg",
      "e.jpg",
      "f.jpg",
      "g.jpg",
    ]);
    expect(await names({ sort: "filename", states: ["new", "skipped"] })).toEqual([
      "a.jpg",
      "d.jpg",
      "g.jpg",
    ]);
    expect(await names({ sort: "filename", annotatorId: bea.id })).toEqual(["c.jpg"]);
    expect(await names({ sort: "filename", annotatorId: "none" })).toEqual(["a.jpg", "g.jpg"]);
    // b.jpg's only mask is deleted: it has none.
    expect(await names({ sort: "filename", hasMasks: true })).toEqual(["c.jpg", "e.jpg", "f.jpg"]);
    expect(await names({ sort: "filename", hasMasks: false })).toEqual(["a.jpg", "b.jpg", "d.jpg", "g.jpg"]);
    expect(await names({ sort: "filename", reviewOutcome: "unreviewed" })).toEqual(["c.jpg"]);
    expect(await names({ sort: "filename", reviewOutcome: "approved" })).toEqual(["e.jpg"]);
    expect(await names({ sort: "filename", reviewOutcome: "rejected" })).toEqual(["f.jpg"]);
    expect(await names({ sort: "filename", label: "cat" })).toEqual(["c.jpg"]);
    expect(await names({ sort: "filename", label: "dog", states: ["done", "needs_changes"] })).toEqual([
      "e.jpg",
      "f.jpg",
    ]);

    const page = await imageTable(prisma(), { projectId: pid, sort: "filename", states: ["submitted"] });
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({
      filename: "c.jpg",
      state: "submitted",
      annotatorId: bea.id,
      annotatorName: "bea",
      masks: 2,
      activeMs: 14_000,
    });
    expect(await workflowCounts(prisma(), pid)).toEqual({
      new: 2,
      in_progress: 1,
      submitted: 1,
      in_review: 0,
      needs_changes: 1,
      done: 1,
      skipped: 1,
    });
  });

  it("pages through every order with keyset cursors: each row once, in order, the total unchanged", async () => {
    const byName = Object.keys(states);
    const expected = {
      filename: byName,
      // Created in reverse name order.
      created: [...byName].reverse(),
      updated: byName,
    } as const;
    for (const sort of ["filename", "created", "updated"] as const) {
      for (const direction of ["asc", "desc"] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 10; pages++) {
          const page: Awaited<ReturnType<typeof imageTable>> = await imageTable(prisma(), {
            projectId: pid,
            sort,
            direction,
            limit: 3,
            cursor,
          });
          // Counted once, on the first page.
          expect(page.total).toBe(cursor === null ? 7 : null);
          seen.push(...page.items.map((r) => r.filename));
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        const want = direction === "asc" ? expected[sort] : [...expected[sort]].reverse();
        expect(seen, `${sort} ${direction}`).toEqual(want);
      }
    }
    // Filters and pages together.
    const first = await imageTable(prisma(), {
      projectId: pid,
      sort: "filename",
      states: ["new", "skipped"],
      limit: 2,
    });
    expect(first.items.map((r) => r.filename)).toEqual(["a.jpg", "d.jpg"]);
    const second = await imageTable(prisma(), {
      projectId: pid,
      sort: "filename",
      states: ["new", "skipped"],
      limit: 2,
      cursor: first.nextCursor,
    });
    expect([first.total, second.items.map((r) => r.filename), second.nextCursor, second.total]).toEqual([
      3,
      ["g.jpg"],
      null,
      null,
    ]);
  });

  it("refuses a cursor it did not make", async () => {
    for (const cursor of [
      "not-base64-json",
      Buffer.from(JSON.stringify({ v: 1, id: "x" })).toString("base64url"),
    ]) {
      const error = await refusal(imageTable(prisma(), { projectId: pid, cursor }));
      expect(error.code).toBe("BAD_REQUEST");
    }
    // A name cursor used with a time sort.
    const page = await imageTable(prisma(), { projectId: pid, sort: "filename", limit: 1 });
    expect(
      (await refusal(imageTable(prisma(), { projectId: pid, sort: "created", cursor: page.nextCursor })))
        .code,
    ).toBe("BAD_REQUEST");
  });
});
