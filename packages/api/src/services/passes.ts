import type { Logger } from "@sas/config";
import {
  abortPass,
  cancelPass,
  createPass,
  type NewPass,
  type PassSummary,
  type PrismaClient,
  passSummary,
} from "@sas/db";
import { enqueuePassImages, removePassImageJobs } from "@sas/queue";
import { TRPCError } from "@trpc/server";

/**
 * Starts an automatic pass: the pass row and its work items (domain), then one BullMQ job per image.
 * When the queue cannot be reached the pass is ended as failed with the reason (a pass whose jobs were
 * never queued would otherwise wait forever) and the caller gets SERVICE_UNAVAILABLE.
 */
export async function startPass(
  db: PrismaClient,
  actor: { id: string },
  input: NewPass,
  log?: Logger,
): Promise<{ id: string }> {
  const pass = await createPass(db, actor, input);
  try {
    await enqueuePassImages(pass.id, pass.imageIds);
  } catch (error) {
    log?.error({ err: error, passId: pass.id }, "could not queue the pass's images");
    await abortPass(db, pass.id, "the job queue was unreachable when the pass started");
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "the job queue is unreachable; the pass was not started, try again later",
    });
  }
  log?.info({ passId: pass.id, images: pass.imageIds.length, stage: input.stage }, "pass started");
  return { id: pass.id };
}

/**
 * Cancels a pass (domain) and removes its images' jobs that no worker holds yet. Jobs already running
 * stop on their own: the handler polls the pass and aborts. Leftover jobs are harmless (a cancelled pass
 * is never claimed), so a queue error here is logged and the cancel still stands.
 */
export async function cancelPassAndJobs(
  db: PrismaClient,
  actor: { id: string },
  id: string,
  log?: Logger,
): Promise<PassSummary> {
  const { cancelledImageIds } = await cancelPass(db, actor, id);
  try {
    const removed = await removePassImageJobs(id, cancelledImageIds);
    log?.info({ passId: id, removed, open: cancelledImageIds.length }, "pass cancelled");
  } catch (error) {
    log?.warn({ err: error, passId: id }, "pass cancelled; its queued jobs could not be removed");
  }
  return passSummary(db, id);
}
