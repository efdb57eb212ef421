import { logger } from "@sas/config";
import { disconnectPrisma, prisma } from "@sas/db";
import { closeQueues, embedImageJob, jobName, queue } from "@sas/queue";
import { TRPCError } from "@trpc/server";
import { Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { createCaller } from "../root";

const caller = (role: "admin" | "manager" | "annotator" | null) =>
  createCaller({
    db: prisma(),
    user: role ? { id: "00000000-0000-4000-8000-000000000001", email: "x@t.local", name: "x", role } : null,
    reqId: "test",
    log: logger("test"),
  });

describe("admin queue view", () => {
  afterAll(async () => {
    await closeQueues();
    await disconnectPrisma();
  });

  it("shows counts and failures to admins, and retries a failed job", async () => {
    const q = queue("embed");
    const job = await q.add(jobName(embedImageJob), { imageId: "x", modelVersionId: "y" }, { attempts: 1 });
    // A stand-in worker that fails every job, so the failure is real BullMQ state.
    const worker = new Worker(
      "embed",
      async () => {
        throw new Error("boom");
      },
      { connection: { url: process.env.REDIS_URL! } },
    );
    await expect.poll(async () => (await q.getJob(job.id!))?.getState(), { timeout: 15_000 }).toBe("failed");
    await worker.close();

    const view = await caller("admin").admin.queues();
    const embed = view.find((v) => v.name === "embed")!;
    expect(embed.counts.failed).toBeGreaterThanOrEqual(1);
    const failure = embed.failed.find((f) => f.id === job.id);
    expect(failure?.error).toBe("boom");
    expect(failure?.stack).toContain("Error: boom");
    expect(failure?.data).toBe('{"imageId":"x","modelVersionId":"y"}');
    const listed = await caller("admin").admin.jobs({ queue: "embed", state: "failed" });
    expect(listed.map((j) => j.id)).toContain(job.id);

    expect(await caller("admin").admin.retryFailed({ queue: "embed", jobId: job.id! })).toEqual({
      retried: 1,
    });
    expect(await (await q.getJob(job.id!))!.getState()).toBe("waiting");
    // Retrying a job that has not failed is refused; removing it takes it out of the queue for good.
    await expect(caller("admin").admin.retryFailed({ queue: "embed", jobId: job.id! })).rejects.toMatchObject(
      {
        code: "NOT_FOUND",
      },
    );
    expect(await caller("admin").admin.removeJob({ queue: "embed", jobId: job.id! })).toEqual({ removed: 1 });
    expect(await q.getJob(job.id!)).toBeUndefined();
    expect((await caller("admin").admin.queues()).find((v) => v.name === "embed")!.counts.waiting).toBe(0);
    await expect(caller("admin").admin.removeJob({ queue: "embed", jobId: job.id! })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("is closed to everyone but admins", async () => {
    for (const role of ["manager", "annotator"] as const) {
      await expect(caller(role).admin.queues()).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(caller(role).admin.removeJob({ queue: "embed", jobId: "1" })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    }
    await expect(caller(null).admin.queues()).rejects.toBeInstanceOf(TRPCError);
    await expect(caller(null).admin.retryFailed({ queue: "embed" })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });
});
