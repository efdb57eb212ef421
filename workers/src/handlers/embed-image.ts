import { embeddingKey, prisma, recordEmbedding } from "@sas/db";
import { embedImageJob } from "@sas/queue";
import { toFloat16 } from "@sas/sam";
import { decodeImage, ImageDecodeError } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { UnrecoverableError } from "bullmq";
import { defineHandler } from "../handler";
import { samFor, withEncoder } from "../sam-sessions";

/**
 * Computes one image's embedding with the encoder of one model version and stores it as float16.
 * Idempotent: the blob key is derived from (model version, image) and the row is an upsert, so a job
 * re-run after a crash, or run twice by two workers, ends with one blob and one row.
 */
export const embedImageHandler = defineHandler({
  definition: embedImageJob,
  async run({ imageId, modelVersionId }, { log, progress }) {
    const db = prisma();
    const [image, model, existing] = await Promise.all([
      db.image.findUnique({ where: { id: imageId } }),
      db.modelVersion.findUnique({ where: { id: modelVersionId } }),
      db.embedding.findUnique({ where: { imageId_modelVersionId: { imageId, modelVersionId } } }),
    ]);
    if (!image) return { skipped: "image was deleted" };
    if (!model) throw new UnrecoverableError(`model version ${modelVersionId} does not exist`);
    const blobs = storage();
    if (existing && (await blobs.exists(existing.storageKey))) {
      if (image.status !== "ready")
        await db.image.update({ where: { id: imageId }, data: { status: "ready" } });
      return { skipped: "already embedded" };
    }

    if (image.status !== "embedding") {
      await db.image.update({ where: { id: imageId }, data: { status: "embedding", error: null } });
    }
    const [sam, bytes] = await Promise.all([samFor(model), blobs.get(image.storageKey)]);
    let decoded: Awaited<ReturnType<typeof decodeImage>>;
    try {
      decoded = await decodeImage(bytes);
    } catch (error) {
      // The original was checked at upload; a file that no longer decodes will not decode on retry either.
      if (error instanceof ImageDecodeError) throw new UnrecoverableError(error.message);
      throw error;
    }
    await progress(0.2);
    const started = performance.now();
    const embedding = await withEncoder(() => sam.encode(decoded));
    const encodeMs = Math.round(performance.now() - started);
    await progress(0.8);

    const half = toFloat16(embedding.data);
    const storageKey = embeddingKey(modelVersionId, imageId);
    const { sizeBytes } = await blobs.put(
      storageKey,
      new Uint8Array(half.buffer, half.byteOffset, half.byteLength),
    );
    await recordEmbedding(db, { imageId, modelVersionId, storageKey, sizeBytes, encodeMs });
    log.info({ imageId, encodeMs }, "embedding stored");
    return { encodeMs, sizeBytes };
  },
  async onFinalFailure({ imageId }, error) {
    await prisma().image.updateMany({
      where: { id: imageId, status: { not: "ready" } },
      data: { status: "failed", error: error.message.slice(0, 500) },
    });
  },
});
