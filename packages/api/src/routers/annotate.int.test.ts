import { randomUUID } from "node:crypto";
import { disconnectPrisma, prisma, type Role, replaceAutomaticMasks } from "@sas/db";
import { createMask, encodeMask } from "@sas/sa1b";
import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VersionConflictError } from "../errors";
import type { RouterInputs } from "../root";
import { callerAs, createTestImage, createTestUsers, rectRle, rejection } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);
const WIDTH = 40;
const HEIGHT = 30;
let projectId: string;
let imageId: string;
let modelVersionId: string;
type Who = "admin" | "manager" | "annotator" | "annotator2" | "outsider";
const users: Record<Who, { id: string; role: Role; name: string }> = {
  admin: { id: "", role: "admin", name: "Ada Admin" },
  manager: { id: "", role: "annotator", name: "Mia Manager" },
  annotator: { id: "", role: "annotator", name: "Ann Annotator" },
  annotator2: { id: "", role: "annotator", name: "Bob Annotator" },
  outsider: { id: "", role: "manager", name: "Otto Outsider" },
};

const callerFor = (who: Who | null) => callerAs(who ? users[who] : null);

/** A filled rectangle: columns x0..x1 and rows y0..y1, inclusive. */
const rect = (x0: number, y0: number, x1: number, y1: number, width = WIDTH, height = HEIGHT) =>
  rectRle(width, height, x0, y0, x1, y1);

type SaveInput = RouterInputs["annotate"]["saveMask"];

function saveInput(overrides: Partial<SaveInput> = {}): SaveInput {
  return {
    id: randomUUID(),
    imageId,
    rle: rect(5, 10, 14, 12),
    predictedIou: 0.93,
    stabilityScore: 0.97,
    pointCoords: [[9, 11]],
    prompts: [
      { type: "point", x: 9, y: 11, label: 1 },
      { type: "box", x0: 4, y0: 9, x1: 15, y1: 13 },
      { type: "brush", mode: "erase", radius: 3, points: [[1, 1]] },
    ],
    label: "  dog  ",
    timing: {
      startedAt: new Date("2026-11-25T10:00:00Z"),
      finishedAt: new Date("2026-11-25T10:00:12Z"),
      activeMs: 9_500,
      clicks: 3,
      boxes: 1,
      brushStrokes: 1,
      undos: 2,
    },
    ...overrides,
  };
}

beforeAll(async () => {
  const db = prisma();
  const version = await db.modelVersion.create({
    data: {
      name: `annotate-${unique}`,
      encoderPath: "e.onnx",
      encoderSha256: "0".repeat(64),
      decoderPath: "d.onnx",
      decoderSha256: "0".repeat(64),
    },
  });
  modelVersionId = version.id;
  const project = await db.project.create({ data: { name: `annotate-${unique}`, modelVersionId } });
  projectId = project.id;
  await createTestUsers(users, unique);
  await db.projectMember.createMany({
    data: [
      { projectId, userId: users.manager.id, role: "manager" },
      { projectId, userId: users.annotator.id, role: "annotator" },
      { projectId, userId: users.annotator2.id, role: "annotator" },
    ],
  });
  imageId = await createTestImage({ projectId, filename: "street.jpg", width: WIDTH, height: HEIGHT });
  // Annotators see only images assigned to them (access.ts): both annotators hold a lease on this one.
  await db.assignment.createMany({
    data: [users.annotator.id, users.annotator2.id].map((userId) => ({
      imageId,
      userId,
      status: "active" as const,
      expiresAt: new Date(Date.now() + 24 * 3600 * 1000),
    })),
  });
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("annotate.saveMask", () => {
  it("stores the mask and its timing, with area and SA-1B box from the RLE", async () => {
    const input = saveInput();
    const view = await callerFor("annotator").annotate.saveMask(input);
    expect(view).toMatchObject({
      id: input.id,
      rle: input.rle,
      // Columns 5..14, rows 10..12: SAM's box is [x0, y0, x1 - x0, y1 - y0].
      bbox: [5, 10, 9, 2],
      area: 30,
      predictedIou: 0.93,
      stabilityScore: 0.97,
      label: "dog",
      source: "manual",
      status: "accepted",
      version: 1,
      authorId: users.annotator.id,
      authorName: "Ann Annotator",
      activeMs: 9_500,
    });
    const db = prisma();
    const row = await db.mask.findUniqueOrThrow({ where: { id: input.id }, include: { timing: true } });
    expect(row).toMatchObject({
      imageId,
      stage: "assisted_manual",
      source: "manual",
      modelVersionId,
      authorId: users.annotator.id,
      cropBox: [0, 0, WIDTH, HEIGHT],
      pointCoords: [[9, 11]],
      prompts: input.prompts,
    });
    expect(row.timing).toMatchObject({
      annotatorId: users.annotator.id,
      startedAt: input.timing.startedAt,
      finishedAt: input.timing.finishedAt,
      activeMs: 9_500,
      clicks: 3,
      boxes: 1,
      brushStrokes: 1,
      undos: 2,
    });
  });

  it("answers a retried save with the stored mask and makes no second one", async () => {
    const caller = callerFor("annotator");
    const input = saveInput();
    // Copies of one save racing each other (a client retrying on a timeout while the first is in flight).
    const racing = await Promise.all([1, 2, 3].map(() => caller.annotate.saveMask(input)));
    expect(racing[1]).toEqual(racing[0]);
    expect(racing[2]).toEqual(racing[0]);
    // The retry after a lost response, even if the client's copy changed meanwhile.
    expect(await caller.annotate.saveMask({ ...input, label: "changed meanwhile" })).toEqual(racing[0]);
    const db = prisma();
    expect(await db.mask.count({ where: { id: input.id } })).toBe(1);
    expect(await db.maskTiming.count({ where: { maskId: input.id } })).toBe(1);
  });

  it("takes timing dates as ISO strings too (a client's offline outbox keeps JSON)", async () => {
    const input = saveInput();
    const view = await callerFor("annotator").annotate.saveMask({
      ...input,
      timing: { ...input.timing, startedAt: "2026-11-25T10:00:00.000Z", finishedAt: "2026-11-25T10:00:12Z" },
    });
    const timing = await prisma().maskTiming.findUniqueOrThrow({ where: { maskId: view.id } });
    expect([timing.startedAt, timing.finishedAt]).toEqual([input.timing.startedAt, input.timing.finishedAt]);
  });

  it("refuses an id that belongs to someone else's mask", async () => {
    const input = saveInput();
    await callerFor("annotator").annotate.saveMask(input);
    const error = await rejection(callerFor("annotator2").annotate.saveMask(input));
    expect(error.code).toBe("CONFLICT");
  });

  it("refuses an RLE of the wrong size, a malformed or empty one, and a bad timing", async () => {
    const caller = callerFor("annotator");
    const transposed = await rejection(
      caller.annotate.saveMask(saveInput({ rle: rect(1, 1, 3, 3, HEIGHT, WIDTH) })),
    );
    expect(transposed.code).toBe("BAD_REQUEST");
    expect(transposed.message).toMatch(/\[40, 30\].*\[30, 40\]/);

    const malformed = await rejection(
      caller.annotate.saveMask(saveInput({ rle: { size: [HEIGHT, WIDTH], counts: "not~rle" } })),
    );
    expect(malformed.code).toBe("BAD_REQUEST");
    const shortCounts = await rejection(
      caller.annotate.saveMask(saveInput({ rle: { size: [HEIGHT, WIDTH], counts: "52" } })),
    );
    expect(shortCounts.code).toBe("BAD_REQUEST");

    const empty = await rejection(
      caller.annotate.saveMask(saveInput({ rle: encodeMask(createMask(WIDTH, HEIGHT)) })),
    );
    expect([empty.code, empty.message]).toEqual(["BAD_REQUEST", "the mask is empty"]);

    const backwards = saveInput();
    backwards.timing = { ...backwards.timing, finishedAt: new Date("2026-11-25T09:00:00Z") };
    expect((await rejection(caller.annotate.saveMask(backwards))).code).toBe("BAD_REQUEST");
    const tooLong = await rejection(
      caller.annotate.saveMask(saveInput({ label: "x".repeat(201), prompts: [] })),
    );
    expect(tooLong.code).toBe("BAD_REQUEST");
  });

  it("hides the image from non-members and refuses anonymous callers", async () => {
    const outsider = await rejection(callerFor("outsider").annotate.saveMask(saveInput()));
    expect(outsider.code).toBe("NOT_FOUND");
    const anonymous = await rejection(callerFor(null).annotate.saveMask(saveInput()));
    expect(anonymous.code).toBe("UNAUTHORIZED");
    const missing = await rejection(
      callerFor("admin").annotate.saveMask(saveInput({ imageId: randomUUID() })),
    );
    expect(missing.code).toBe("NOT_FOUND");
  });
});

describe("annotate.updateMask and deleteMask", () => {
  it("lets one of two edits from the same read win and refuses the other", async () => {
    const saved = await callerFor("annotator").annotate.saveMask(saveInput());
    const outcomes = await Promise.allSettled([
      callerFor("annotator").annotate.updateMask({ id: saved.id, version: 1, label: "cat" }),
      callerFor("manager").annotate.updateMask({
        id: saved.id,
        version: 1,
        label: "horse",
        rle: rect(0, 0, 1, 1),
      }),
    ]);
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o) => o.status === "rejected");
    expect([won.length, lost.length]).toEqual([1, 1]);
    const error = lost[0]!.reason as TRPCError;
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toMatch(/someone else changed this mask: it is at version 2/);

    const winner = won[0]!.value;
    const stored = (await callerFor("admin").annotate.image({ imageId })).masks.find(
      (m) => m.id === saved.id,
    );
    expect(stored).toEqual(winner);
    expect(stored?.version).toBe(2);
    if (stored?.label === "horse") {
      expect([stored.area, stored.bbox]).toEqual([4, [0, 0, 1, 1]]);
    } else {
      expect([stored?.label, stored?.area, stored?.rle]).toEqual(["cat", saved.area, saved.rle]);
    }
  });

  it("puts the current version in the error data a client sees", async () => {
    const saved = await callerFor("annotator").annotate.saveMask(saveInput());
    await callerFor("annotator").annotate.updateMask({ id: saved.id, version: 1, label: "first" });
    const error = await rejection(
      callerFor("annotator").annotate.updateMask({ id: saved.id, version: 1, label: "second" }),
    );
    // The error formatter copies this to `error.data.currentVersion`.
    expect(error.cause).toBeInstanceOf(VersionConflictError);
    expect((error.cause as VersionConflictError).currentVersion).toBe(2);
  });

  it("adds edit timing to the stored timing and recomputes the geometry", async () => {
    const saved = await callerFor("annotator").annotate.saveMask(saveInput());
    const updated = await callerFor("annotator").annotate.updateMask({
      id: saved.id,
      version: 1,
      rle: rect(20, 0, 39, 29),
      prompts: [{ type: "box", x0: 20, y0: 0, x1: 39, y1: 29 }],
      timing: {
        startedAt: new Date("2026-11-25T11:00:00Z"),
        finishedAt: new Date("2026-11-25T11:00:05Z"),
        activeMs: 500,
        clicks: 1,
        boxes: 1,
        brushStrokes: 0,
        undos: 0,
      },
    });
    expect(updated).toMatchObject({ version: 2, area: 600, bbox: [20, 0, 19, 29], activeMs: 10_000 });
    const timing = await prisma().maskTiming.findUniqueOrThrow({ where: { maskId: saved.id } });
    expect(timing).toMatchObject({
      startedAt: new Date("2026-11-25T10:00:00Z"),
      finishedAt: new Date("2026-11-25T11:00:05Z"),
      clicks: 4,
      boxes: 2,
      brushStrokes: 1,
      undos: 2,
    });
    const wrongSize = await rejection(
      callerFor("annotator").annotate.updateMask({ id: saved.id, version: 2, rle: rect(0, 0, 1, 1, 10, 10) }),
    );
    expect(wrongSize.code).toBe("BAD_REQUEST");
  });

  it("lets annotators change only their own masks; managers and admins change any", async () => {
    const saved = await callerFor("annotator").annotate.saveMask(saveInput());
    const other = await rejection(
      callerFor("annotator2").annotate.updateMask({ id: saved.id, version: 1, label: "mine now" }),
    );
    expect(other.code).toBe("FORBIDDEN");
    expect(
      (await rejection(callerFor("annotator2").annotate.deleteMask({ id: saved.id, version: 1 }))).code,
    ).toBe("FORBIDDEN");
    expect(
      (await rejection(callerFor("outsider").annotate.updateMask({ id: saved.id, version: 1, label: "x" })))
        .code,
    ).toBe("NOT_FOUND");

    const byManager = await callerFor("manager").annotate.updateMask({
      id: saved.id,
      version: 1,
      label: "car",
    });
    expect([byManager.label, byManager.version, byManager.authorId]).toEqual(["car", 2, users.annotator.id]);
    const byAdmin = await callerFor("admin").annotate.updateMask({ id: saved.id, version: 2, label: "bus" });
    expect([byAdmin.label, byAdmin.version]).toEqual(["bus", 3]);
  });

  it("soft-deletes under the same version rules, and repeats a lost delete harmlessly", async () => {
    const saved = await callerFor("annotator").annotate.saveMask(saveInput());
    const stale = await rejection(callerFor("annotator").annotate.deleteMask({ id: saved.id, version: 2 }));
    expect(stale.code).toBe("CONFLICT");

    const deleted = await callerFor("annotator").annotate.deleteMask({ id: saved.id, version: 1 });
    expect([deleted.status, deleted.version]).toEqual(["deleted", 2]);
    expect(await callerFor("annotator").annotate.deleteMask({ id: saved.id, version: 1 })).toEqual(deleted);

    const row = await prisma().mask.findUniqueOrThrow({ where: { id: saved.id } });
    expect([row.status, row.version, row.area]).toEqual(["deleted", 2, saved.area]);

    const edit = await rejection(
      callerFor("annotator").annotate.updateMask({ id: saved.id, version: 2, label: "back" }),
    );
    expect(edit.code).toBe("CONFLICT");
    expect(edit.message).toMatch(/deleted/);

    // Undo: restore follows the same version rules, and a retried restore is answered as done.
    const restored = await callerFor("annotator").annotate.restoreMask({ id: saved.id, version: 2 });
    expect([restored.status, restored.version]).toEqual(["accepted", 3]);
    expect(await callerFor("annotator").annotate.restoreMask({ id: saved.id, version: 2 })).toEqual(restored);
    const notDeleted = await rejection(
      callerFor("annotator").annotate.restoreMask({ id: saved.id, version: 3 }),
    );
    expect(notDeleted.code).toBe("CONFLICT");
    expect(
      (await rejection(callerFor("annotator2").annotate.restoreMask({ id: saved.id, version: 3 }))).code,
    ).toBe("FORBIDDEN");
  });
});

describe("annotate.image", () => {
  it("returns the image with its live masks, their authors and active time", async () => {
    const kept = await callerFor("annotator2").annotate.saveMask(saveInput({ label: "kept" }));
    const gone = await callerFor("annotator2").annotate.saveMask(saveInput({ label: "gone" }));
    await callerFor("annotator2").annotate.deleteMask({ id: gone.id, version: 1 });
    const auto = await prisma().mask.create({
      data: {
        imageId,
        rle: { size: [HEIGHT, WIDTH], counts: rect(0, 0, 0, 0).counts },
        bbox: [0, 0, 0, 0],
        area: 1,
        cropBox: [0, 0, WIDTH, HEIGHT],
        source: "auto",
        stage: "fully_automatic",
      },
    });

    const page = await callerFor("annotator2").annotate.image({ imageId });
    expect(page.image).toEqual({
      id: imageId,
      projectId,
      filename: "street.jpg",
      width: WIDTH,
      height: HEIGHT,
      status: "ready",
    });
    expect([page.projectName, page.modelVersionId, page.canEditAll]).toEqual([
      `annotate-${unique}`,
      modelVersionId,
      false,
    ]);
    const ids = page.masks.map((m) => m.id);
    expect(ids).toContain(kept.id);
    expect(ids).toContain(auto.id);
    expect(ids).not.toContain(gone.id);
    expect(page.masks.every((m) => m.status !== "deleted")).toBe(true);
    expect(page.masks.find((m) => m.id === kept.id)).toMatchObject({
      authorName: "Bob Annotator",
      activeMs: 9_500,
      createdAt: expect.any(Date),
    });
    expect(page.masks.find((m) => m.id === auto.id)).toMatchObject({
      source: "auto",
      authorId: null,
      authorName: null,
      activeMs: null,
    });

    expect((await callerFor("manager").annotate.image({ imageId })).canEditAll).toBe(true);
    expect((await callerFor("admin").annotate.image({ imageId })).canEditAll).toBe(true);
    expect((await rejection(callerFor("outsider").annotate.image({ imageId }))).code).toBe("NOT_FOUND");
    expect((await rejection(callerFor(null).annotate.image({ imageId }))).code).toBe("UNAUTHORIZED");
  });
});

describe("annotate.acceptMask and the masks of automatic passes", () => {
  const timing = {
    startedAt: new Date("2026-11-25T12:00:00Z"),
    finishedAt: new Date("2026-11-25T12:00:02Z"),
    activeMs: 1_500,
    clicks: 0,
    boxes: 0,
    brushStrokes: 0,
    undos: 0,
  };

  /** A semi-automatic pass's result on the test image, stored through the mask domain as a worker does. */
  async function proposals(count: number) {
    const db = prisma();
    const job = await db.job.create({ data: { type: "semi_auto", params: {}, projectId } });
    const passKey = randomUUID().replaceAll("-", "").padEnd(64, "0");
    await db.$transaction((tx) =>
      replaceAutomaticMasks(tx, {
        imageId,
        jobId: job.id,
        passKey,
        stage: "semi_automatic",
        modelVersionId,
        masks: Array.from({ length: count }, (_, i) => ({
          rle: rect(i, i, i + 2, i + 2),
          bbox: [i, i, 2, 2],
          area: 9,
          predictedIou: 0.96,
          stabilityScore: 0.98,
          pointCoords: [[i + 1, i + 1]],
          cropBox: [0, 0, WIDTH, HEIGHT],
        })),
      }),
    );
    const rows = await db.mask.findMany({ where: { jobId: job.id }, orderBy: { createdAt: "asc" } });
    return { jobId: job.id, ids: rows.map((r) => r.id) };
  }

  it("lets an annotator accept a proposal on their image, with timing, and answers a retry as done", async () => {
    const { jobId, ids } = await proposals(1);
    const id = ids[0]!;
    const page = await callerFor("annotator").annotate.image({ imageId });
    expect(page.masks.find((m) => m.id === id)).toMatchObject({
      source: "semi_auto",
      stage: "semi_automatic",
      jobId,
      status: "proposed",
      version: 1,
      authorId: null,
    });

    const accepted = await callerFor("annotator").annotate.acceptMask({ id, version: 1, timing });
    expect(accepted).toMatchObject({
      id,
      status: "accepted",
      version: 2,
      source: "semi_auto",
      stage: "semi_automatic",
      jobId,
      authorId: null,
      activeMs: 1_500,
    });
    const stored = await prisma().maskTiming.findUniqueOrThrow({ where: { maskId: id } });
    expect(stored).toMatchObject({ ...timing, annotatorId: users.annotator.id });
    // The retry after a lost answer: the same mask, the timing not counted twice.
    expect(await callerFor("annotator").annotate.acceptMask({ id, version: 1, timing })).toEqual(accepted);
    expect((await prisma().maskTiming.findUniqueOrThrow({ where: { maskId: id } })).activeMs).toBe(1_500);
  });

  it("refuses a stale version with the current one, and anything that is not a proposal", async () => {
    const { ids } = await proposals(2);
    const [edited, deleted] = ids as [string, string];
    const caller = callerFor("annotator2");
    await caller.annotate.updateMask({ id: edited, version: 1, label: "dog" });
    const stale = await rejection(caller.annotate.acceptMask({ id: edited, version: 1 }));
    expect(stale.code).toBe("CONFLICT");
    expect((stale.cause as VersionConflictError).currentVersion).toBe(2);
    // An edit keeps it a proposal; accepting it from the edited version works.
    const accepted = await caller.annotate.acceptMask({ id: edited, version: 2 });
    expect([accepted.status, accepted.version, accepted.label]).toEqual(["accepted", 3, "dog"]);
    const again = await rejection(caller.annotate.acceptMask({ id: edited, version: 3 }));
    expect([again.code, again.message]).toEqual(["CONFLICT", "the mask is accepted, not a proposal"]);
    expect((again.cause as VersionConflictError).currentVersion).toBe(3);

    await caller.annotate.deleteMask({ id: deleted, version: 1 });
    const gone = await rejection(caller.annotate.acceptMask({ id: deleted, version: 2 }));
    expect([gone.code, gone.message]).toEqual(["CONFLICT", "the mask was deleted"]);
    // A manual mask is never a proposal.
    const manual = await callerFor("annotator").annotate.saveMask(saveInput());
    const notProposal = await rejection(
      callerFor("annotator").annotate.acceptMask({ id: manual.id, version: 1 }),
    );
    expect(notProposal.code).toBe("CONFLICT");
  });

  it("lets annotators edit and delete automatic masks, but not another person's manual mask", async () => {
    const { ids } = await proposals(2);
    const [fixed, removed] = ids as [string, string];
    const fix = await callerFor("annotator2").annotate.updateMask({
      id: fixed,
      version: 1,
      rle: rect(10, 10, 19, 19),
      timing,
    });
    expect(fix).toMatchObject({
      status: "proposed",
      version: 2,
      area: 100,
      bbox: [10, 10, 9, 9],
      authorId: null,
    });
    const deleted = await callerFor("annotator").annotate.deleteMask({ id: removed, version: 1 });
    expect([deleted.status, deleted.version]).toEqual(["deleted", 2]);

    const manual = await callerFor("annotator").annotate.saveMask(saveInput());
    const forbidden = await rejection(
      callerFor("annotator2").annotate.acceptMask({ id: manual.id, version: 1 }),
    );
    expect(forbidden.code).toBe("FORBIDDEN");
    expect(
      (
        await rejection(
          callerFor("annotator2").annotate.updateMask({ id: manual.id, version: 1, label: "x" }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    // Nobody outside the project learns the mask exists.
    expect((await rejection(callerFor("outsider").annotate.acceptMask({ id: fixed, version: 2 }))).code).toBe(
      "NOT_FOUND",
    );
    expect(
      (await rejection(callerFor("admin").annotate.acceptMask({ id: randomUUID(), version: 1 }))).code,
    ).toBe("NOT_FOUND");
  });
});
