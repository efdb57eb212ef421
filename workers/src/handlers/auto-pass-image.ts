import {
  claimPassImage,
  completePassImage,
  failPassImage,
  MaskDomainError,
  type PrismaClient,
  passIsCancelled,
  prisma,
} from "@sas/db";
import { autoPassImageJob } from "@sas/queue";
import { decodeImage, generateAutoMasks, ImageDecodeError } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { UnrecoverableError } from "bullmq";
import { defineHandler } from "../handler";
import { pointDecoderFor, samFor, withEncoder } from "../sam-sessions";

/** How often a running image checks whether its pass was cancelled. */
export const CANCEL_POLL_MS = 2000;

class PassCancelled extends Error {
  override name = "PassCancelled";
}

/**
 * An AbortSignal that fires once the pass is cancelled (polled every CANCEL_POLL_MS), so a long image
 * stops within about that long instead of running to the end for nothing. A failed poll (the database
 * briefly away) is not a cancel; the next poll asks again.
 */
function cancelSignal(db: PrismaClient, jobId: string): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    passIsCancelled(db, jobId)
      .then((cancelled) => {
        if (cancelled) controller.abort(new PassCancelled("the pass was cancelled"));
      })
      .catch(() => undefined)
      .finally(() => {
        polling = false;
      });
  }, CANCEL_POLL_MS);
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

/**
 * One image of an automatic pass: claims it in the pass, runs SAM's automatic mask generator on it with the
 * pass's parameters and model version, and stores the masks and statistics in one transaction
 * (`completePassImage`). Safe to run again at any point: a job a killed worker left behind is handed to
 * another worker by BullMQ's stalled check and redone; the masks replace their own earlier copies and the
 * image counts once. A cancelled pass is not worked on, and an image in progress stops at its next batch.
 */
export const autoPassImageHandler = defineHandler({
  definition: autoPassImageJob,
  async run({ jobId, imageId }, { log, progress }) {
    const db = prisma();
    const claimed = await claimPassImage(db, jobId, imageId);
    if (!claimed) return { skipped: "the pass was cancelled or the image is already done" };
    const [image, model] = await Promise.all([
      db.image.findUnique({ where: { id: imageId }, select: { storageKey: true } }),
      claimed.modelVersionId
        ? db.modelVersion.findUnique({ where: { id: claimed.modelVersionId } })
        : Promise.resolve(null),
    ]);
    if (!image) return { skipped: "image was deleted" };
    if (!model) throw new UnrecoverableError("the pass's model version no longer exists");

    const [sam, decoder] = await Promise.all([samFor(model), pointDecoderFor(model)]);
    const started = performance.now();
    let decoded: Awaited<ReturnType<typeof decodeImage>>;
    try {
      // Crop layers encode zoomed-in crops of the full-resolution image.
      decoded = await decodeImage(await storage().get(image.storageKey), { keepOriginal: true });
    } catch (error) {
      if (error instanceof ImageDecodeError) throw new UnrecoverableError(error.message);
      throw error;
    }

    const cancel = cancelSignal(db, jobId);
    let generated: Awaited<ReturnType<typeof generateAutoMasks>>;
    try {
      generated = await generateAutoMasks(
        // Encodes wait for each other across this process's jobs (see sam-sessions.ts).
        { encode: (input) => withEncoder(() => sam.encode(input)) },
        decoder,
        decoded,
        claimed.params,
        {
          signal: cancel.signal,
          onProgress: (fraction) => void progress(fraction * 0.95).catch(() => undefined),
        },
      );
    } catch (error) {
      if (cancel.signal.aborted) {
        log.info({ jobId, imageId }, "pass cancelled; image abandoned");
        return { skipped: "the pass was cancelled" };
      }
      throw error;
    } finally {
      cancel.stop();
    }

    const seconds = (performance.now() - started) / 1000;
    let outcome: Awaited<ReturnType<typeof completePassImage>>;
    try {
      outcome = await completePassImage(db, {
        jobId,
        imageId,
        masks: generated.masks,
        seconds,
        filterCounts: generated.stats.filterCounts,
      });
    } catch (error) {
      // The generator's masks refused by the mask domain: running again would make the same masks.
      if (error instanceof MaskDomainError && error.code === "BAD_REQUEST") {
        throw new UnrecoverableError(error.message);
      }
      throw error;
    }
    await progress(1);
    const { stats } = generated;
    log.info(
      {
        jobId,
        imageId,
        outcome: outcome.status,
        masks: generated.masks.length,
        seconds: Math.round(seconds * 10) / 10,
        encodeMs: Math.round(stats.encodeMs),
        decodeMs: Math.round(stats.decodeMs),
        crops: stats.crops,
        points: stats.points,
      },
      "pass image done",
    );
    return outcome.status === "completed"
      ? { masks: outcome.inserted, replaced: outcome.replaced, seconds }
      : { skipped: outcome.reason };
  },
  async onFinalFailure({ jobId, imageId }, error) {
    await failPassImage(prisma(), { jobId, imageId, error: error.message });
  },
});
