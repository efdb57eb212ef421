import { disconnectPrisma, prisma } from "@sas/db";
import { closeQueues, exportJobId, queue } from "@sas/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, callerAs, rejection } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);

let manager: Actor;
let reviewer: Actor;
let projectId: string;
let otherProjectId: string;

beforeAll(async () => {
  const db = prisma();
  const [m, r] = await Promise.all([
    db.user.create({ data: { email: `manager-${unique}@export.test`, name: "Max", role: "manager" } }),
    db.user.create({ data: { email: `reviewer-${unique}@export.test`, name: "Rita", role: "annotator" } }),
  ]);
  manager = { id: m.id, role: m.role };
  reviewer = { id: r.id, role: r.role };
  projectId = (
    await db.project.create({
      data: {
        name: `export-${unique}`,
        members: {
          create: [
            { userId: manager.id, role: "manager" },
            { userId: reviewer.id, role: "reviewer" },
          ],
        },
      },
    })
  ).id;
  otherProjectId = (
    await db.project.create({
      data: { name: `export-other-${unique}`, members: { create: { userId: manager.id, role: "manager" } } },
    })
  ).id;
});

afterAll(async () => {
  await closeQueues();
  await disconnectPrisma();
});

describe("export router", () => {
  it("starts an export (rows, audit, one BullMQ job), lists and gets it, cancels it and removes the job", async () => {
    const api = callerAs(manager);
    const started = await api.export.start({
      projectId,
      filters: { sourcePreset: "automatic", label: "cat" },
      options: { shortestSide: 1500, shardSize: 10 },
    });
    expect(started).toMatchObject({ status: "queued", progress: 0, files: [] });
    expect(started.params).toMatchObject({
      filters: { sourcePreset: "automatic", label: "cat", statuses: ["accepted"] },
      options: { shortestSide: 1500, shardSize: 10, coco: false, valFraction: 0.05 },
    });
    expect(await queue("export").getJob(exportJobId(started.id))).toBeDefined();
    const audit = await prisma().auditLog.findFirst({
      where: { action: "export.created", targetId: started.id },
    });
    expect(audit?.actorId).toBe(manager.id);

    expect((await api.export.list({ projectId })).map((e) => e.id)).toContain(started.id);
    expect((await api.export.get({ projectId, exportId: started.id })).id).toBe(started.id);

    const cancelled = await api.export.cancel({ projectId, exportId: started.id });
    expect(cancelled.status).toBe("cancelled");
    expect(await queue("export").getJob(exportJobId(started.id))).toBeUndefined();
    // Again: nothing changes.
    expect((await api.export.cancel({ projectId, exportId: started.id })).status).toBe("cancelled");
  });

  it("refuses bad parameters, other projects' exports, finished exports and non-managers", async () => {
    const api = callerAs(manager);
    expect((await rejection(api.export.start({ projectId, options: { shardSize: 0 } }))).code).toBe(
      "BAD_REQUEST",
    );
    expect(
      (
        await rejection(
          api.export.start({
            projectId,
            filters: { createdFrom: new Date("2026-02-01"), createdTo: new Date("2026-01-01") },
          }),
        )
      ).code,
    ).toBe("BAD_REQUEST");
    const started = await api.export.start({ projectId });
    expect((await rejection(api.export.get({ projectId: otherProjectId, exportId: started.id }))).code).toBe(
      "NOT_FOUND",
    );
    await prisma().job.updateMany({ where: { export: { id: started.id } }, data: { status: "completed" } });
    expect((await rejection(api.export.cancel({ projectId, exportId: started.id }))).code).toBe("CONFLICT");
    expect((await rejection(callerAs(reviewer).export.list({ projectId }))).code).toBe("FORBIDDEN");
    await queue("export").remove(exportJobId(started.id));
  });
});
