import { disconnectPrisma, prisma, registerModelVersion } from "@sas/db";
import { closeQueues, passImageJobId, queue } from "@sas/queue";
import { DEFAULT_AUTO_MASK_PARAMS } from "@sas/sam";
import { defaultModelFiles } from "@sas/sam/model-files";
import { calibrationFor } from "@sas/sam/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, callerAs, createTestImage, rejection } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);

let admin: Actor;
let manager: Actor;
let projectId: string;
let otherProjectId: string;
/** Project images: [ready, uploaded, failed]. */
let images: string[];
let otherImage: string;
let modelName: string;

beforeAll(async () => {
  const db = prisma();
  const [a, m] = await Promise.all([
    db.user.create({ data: { email: `admin-${unique}@pass.test`, name: "Ada Admin", role: "admin" } }),
    db.user.create({ data: { email: `manager-${unique}@pass.test`, name: "Max", role: "manager" } }),
  ]);
  admin = { id: a.id, role: a.role };
  manager = { id: m.id, role: m.role };
  modelName = `pass-model-${unique}`;
  const model = await registerModelVersion(db, { name: modelName, ...defaultModelFiles() });
  const project = await db.project.create({
    data: {
      name: `pass-${unique}`,
      modelVersionId: model.id,
      members: { create: { userId: manager.id, role: "manager" } },
    },
  });
  projectId = project.id;
  otherProjectId = (
    await db.project.create({ data: { name: `pass-other-${unique}`, modelVersionId: model.id } })
  ).id;
  images = [];
  for (const [i, status] of (["ready", "uploaded", "failed"] as const).entries()) {
    images.push(await createTestImage({ projectId, filename: `img-${i}.jpg`, status }));
  }
  otherImage = await createTestImage({ projectId: otherProjectId, filename: "other.jpg" });
});

afterAll(async () => {
  await closeQueues();
  await disconnectPrisma();
});

const asAdmin = () => callerAs(admin);

describe("pass router", () => {
  it("gives each stage's default parameters: calibrated thresholds for the project's model, SAM's otherwise", async () => {
    const calibration = calibrationFor(defaultModelFiles());
    if (!calibration) throw new Error("the bundled model has a calibration");
    const full = await asAdmin().pass.defaults({ stage: "fully_automatic", projectId });
    expect(full.params).toEqual({ ...DEFAULT_AUTO_MASK_PARAMS, ...calibration.fullyAutomatic });
    expect(full.calibration).toEqual({
      model: calibration.model,
      basis: calibration.basis,
      uncalibrated: { predIouThresh: 0.88, stabilityScoreThresh: 0.95 },
    });
    const semi = await asAdmin().pass.defaults({ stage: "semi_automatic", projectId });
    // Semi-automatic passes keep only confident masks: stricter than the fully automatic pair.
    expect(semi.params).toEqual({ ...DEFAULT_AUTO_MASK_PARAMS, ...calibration.semiAutomatic });
    expect(semi.params.predIouThresh).toBeGreaterThan(full.params.predIouThresh);
    expect(semi.params.stabilityScoreThresh).toBeGreaterThan(full.params.stabilityScoreThresh);
    expect(semi.calibration?.uncalibrated).toEqual({ predIouThresh: 0.94, stabilityScoreThresh: 0.97 });

    // A model version nobody calibrated (any upload) runs SAM's own thresholds.
    const db = prisma();
    const other = await db.modelVersion.create({
      data: {
        name: `uncalibrated-${unique}`,
        encoderPath: "models/x.onnx",
        encoderSha256: "a".repeat(64),
        decoderPath: "models/y.onnx",
        decoderSha256: "b".repeat(64),
      },
    });
    const plainProject = await db.project.create({
      data: { name: `pass-plain-${unique}`, modelVersionId: other.id },
    });
    expect(await asAdmin().pass.defaults({ stage: "fully_automatic", projectId: plainProject.id })).toEqual({
      params: DEFAULT_AUTO_MASK_PARAMS,
      calibration: null,
    });
    expect(
      (await asAdmin().pass.defaults({ stage: "semi_automatic", projectId: plainProject.id })).params,
    ).toEqual({ ...DEFAULT_AUTO_MASK_PARAMS, predIouThresh: 0.94, stabilityScoreThresh: 0.97 });
  });

  it("refuses bad starts with BAD_REQUEST (or NOT_FOUND for an unknown project) and writes nothing", async () => {
    const before = await prisma().job.count();
    const start = (input: Parameters<ReturnType<typeof asAdmin>["pass"]["start"]>[0]) =>
      rejection(asAdmin().pass.start(input));
    const stage = "fully_automatic" as const;

    const unknownImage = await start({ projectId, stage, imageIds: [images[0]!, crypto.randomUUID()] });
    expect(unknownImage.code).toBe("BAD_REQUEST");
    expect(unknownImage.message).toBe("1 of the chosen images is not in this project");
    const foreign = await start({ projectId, stage, imageIds: [otherImage] });
    expect([foreign.code, foreign.message]).toEqual([
      "BAD_REQUEST",
      "1 of the chosen images is not in this project",
    ]);
    // Only failed images left: nothing to process.
    expect((await start({ projectId, stage, imageIds: [images[2]!] })).code).toBe("BAD_REQUEST");
    expect((await start({ projectId, stage, imageIds: ["not-a-uuid"] })).code).toBe("BAD_REQUEST");
    // Out of range, of the wrong type, unknown: refused by the input schema.
    expect((await start({ projectId, stage, params: { pointsPerSide: 0 } })).code).toBe("BAD_REQUEST");
    expect((await start({ projectId, stage, params: { predIouThresh: 1.5 } })).code).toBe("BAD_REQUEST");
    const unknownParam = await rejection(
      asAdmin().pass.start({
        projectId,
        stage,
        params: { pointsPerSide: 8, bogus: 1 } as { pointsPerSide: number },
      }),
    );
    expect(unknownParam.code).toBe("BAD_REQUEST");
    // Valid fields that together leave a crop layer without points: refused by the domain, saying why.
    const emptyLayer = await start({
      projectId,
      stage,
      params: { pointsPerSide: 2, cropNLayers: 2, cropNPointsDownscaleFactor: 2 },
    });
    expect(emptyLayer.code).toBe("BAD_REQUEST");
    expect(emptyLayer.message).toMatch(/crop layer 2 would get no points/);
    expect((await start({ projectId: crypto.randomUUID(), stage })).code).toBe("NOT_FOUND");
    expect(await prisma().job.count()).toBe(before);
  });

  it("is for admins only", async () => {
    const asManager = callerAs(manager);
    expect((await rejection(asManager.pass.start({ projectId, stage: "semi_automatic" }))).code).toBe(
      "FORBIDDEN",
    );
    expect((await rejection(asManager.pass.list({ projectId }))).code).toBe("FORBIDDEN");
    expect((await rejection(callerAs(null).pass.defaults({ stage: "semi_automatic" }))).code).toBe(
      "UNAUTHORIZED",
    );
  });

  it("starts a pass over every image that did not fail: rows, one queued job per image, audit; then cancels it", async () => {
    const caller = asAdmin();
    const { id } = await caller.pass.start({
      projectId,
      stage: "semi_automatic",
      params: { pointsPerSide: 16, cropNLayers: 0 },
    });
    const db = prisma();
    const job = await db.job.findUniqueOrThrow({ where: { id } });
    expect(job).toMatchObject({
      type: "semi_auto",
      status: "queued",
      projectId,
      createdById: admin.id,
      totalItems: 2,
      doneItems: 0,
      failedItems: 0,
      resultCount: 0,
    });
    expect(job.passKey).toMatch(/^[0-9a-f]{64}$/);
    // The overrides over the semi-automatic defaults for the project's model (not the fully automatic ones).
    expect(job.params).toEqual({
      ...DEFAULT_AUTO_MASK_PARAMS,
      ...calibrationFor(defaultModelFiles())?.semiAutomatic,
      pointsPerSide: 16,
      cropNLayers: 0,
    });
    const items = await db.passImage.findMany({ where: { jobId: id }, orderBy: { imageId: "asc" } });
    expect(items.map((i) => [i.imageId, i.status])).toEqual(
      [images[0]!, images[1]!].sort().map((imageId) => [imageId, "queued"]),
    );
    for (const imageId of [images[0]!, images[1]!]) {
      const queued = await queue("auto").getJob(passImageJobId(id, imageId));
      expect(queued?.name).toBe("auto-pass-image@v1");
      expect(queued?.data).toEqual({ jobId: id, imageId });
      expect(await queued?.getState()).toBe("waiting");
    }
    expect(await queue("auto").getJob(passImageJobId(id, images[2]!))).toBeUndefined();
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: "pass.started", targetId: id } });
    expect(audit).toMatchObject({ actorId: admin.id, projectId, targetType: "job" });

    // The same pass again (same stage, model, parameters) while it runs: CONFLICT.
    const twin = await rejection(
      caller.pass.start({
        projectId,
        stage: "semi_automatic",
        params: { cropNLayers: 0, pointsPerSide: 16 },
      }),
    );
    expect(twin.code).toBe("CONFLICT");

    const listed = await caller.pass.list({ projectId });
    expect(listed[0]).toMatchObject({
      id,
      projectId,
      projectName: `pass-${unique}`,
      stage: "semi_automatic",
      status: "queued",
      modelVersionName: modelName,
      totalItems: 2,
      progress: 0,
      etaSeconds: null,
      createdByName: "Ada Admin",
      error: null,
    });
    const detail = await caller.pass.get({ id });
    expect(detail.params.pointsPerSide).toBe(16);
    expect(detail.stats).toEqual({ masksPerImage: null, secondsPerImage: null, filters: [] });
    expect(detail.images.map((i) => [i.filename, i.status, i.masks, i.seconds])).toEqual([
      ["img-0.jpg", "queued", 0, null],
      ["img-1.jpg", "queued", 0, null],
    ]);

    const cancelled = await caller.pass.cancel({ id });
    expect(cancelled).toMatchObject({ id, status: "cancelled", doneItems: 0, etaSeconds: null });
    expect(cancelled.finishedAt).toBeInstanceOf(Date);
    expect(
      (await db.passImage.findMany({ where: { jobId: id } })).every((i) => i.status === "cancelled"),
    ).toBe(true);
    for (const imageId of [images[0]!, images[1]!]) {
      expect(await queue("auto").getJob(passImageJobId(id, imageId))).toBeUndefined();
    }
    expect(await db.auditLog.count({ where: { action: "pass.cancelled", targetId: id } })).toBe(1);
    // Cancelling again changes nothing; the identical pass may start now.
    expect((await caller.pass.cancel({ id })).status).toBe("cancelled");
    expect(await db.auditLog.count({ where: { action: "pass.cancelled", targetId: id } })).toBe(1);
    const again = await caller.pass.start({
      projectId,
      stage: "semi_automatic",
      imageIds: [images[0]!],
      params: { pointsPerSide: 16, cropNLayers: 0 },
    });
    const rerun = await db.job.findUniqueOrThrow({ where: { id: again.id } });
    expect([rerun.passKey, rerun.totalItems]).toEqual([job.passKey, 1]);
    await caller.pass.cancel({ id: again.id });
  });

  it("lists passes newest first, of one project or all; unknown ids are NOT_FOUND", async () => {
    const caller = asAdmin();
    const first = await caller.pass.start({ projectId: otherProjectId, stage: "fully_automatic" });
    const second = await caller.pass.start({
      projectId: otherProjectId,
      stage: "fully_automatic",
      params: { pointsPerSide: 8 },
    });
    const ofOther = await caller.pass.list({ projectId: otherProjectId });
    expect(ofOther.map((p) => p.id)).toEqual([second.id, first.id]);
    const all = await caller.pass.list();
    expect(all.map((p) => p.id).slice(0, 2)).toEqual([second.id, first.id]);
    expect(all.some((p) => p.projectId === projectId)).toBe(true);
    for (const id of [first.id, second.id]) await caller.pass.cancel({ id });
    // A finished pass cannot be cancelled; an unknown one is not found.
    await prisma().job.update({ where: { id: first.id }, data: { status: "completed" } });
    expect((await rejection(caller.pass.cancel({ id: first.id }))).code).toBe("CONFLICT");
    expect((await rejection(caller.pass.get({ id: crypto.randomUUID() }))).code).toBe("NOT_FOUND");
    expect((await rejection(caller.pass.cancel({ id: crypto.randomUUID() }))).code).toBe("NOT_FOUND");
  });
});
