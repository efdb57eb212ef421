import type { SessionUser } from "@sas/auth";
import { logger } from "@sas/config";
import { decodingModelVersions, type ModelVersion, type PrismaClient } from "@sas/db";
import { enqueueEmbedding } from "@sas/queue";
import { storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";
import { assertCanViewImage } from "../access";

/**
 * The model version the annotation page decodes an image with (its embedding and its browser decoder must
 * match; the rule is `decodingModelVersions`'). When that is an older version, the current version's
 * embedding is queued so the next visit uses it.
 */
export async function decodingModelVersion(
  db: PrismaClient,
  image: { id: string; projectId: string },
): Promise<ModelVersion | null> {
  const { current, decoding } = await decodingModelVersions(db, image);
  if (current && decoding && decoding.id !== current.id)
    await enqueueEmbedding(image.id, current.id).catch((error: Error) =>
      logger("api").warn(
        { imageId: image.id, err: error.message },
        "could not queue the current version's embedding",
      ),
    );
  return decoding;
}

export interface ServedEmbedding {
  bytes: Buffer;
  etag: string;
  dtype: string;
  shape: number[];
  imageWidth: number;
  imageHeight: number;
  modelVersionId: string;
}

/**
 * The stored embedding of an image for a caller who may view that image (`assertCanViewImage`: an
 * annotator only their assigned images), for the given model version or the one `decodingModelVersion` picks. NOT_FOUND until the embedding exists (the image is still queued).
 */
export async function embeddingForViewer(
  db: PrismaClient,
  user: Pick<SessionUser, "id" | "role">,
  imageId: string,
  modelVersionId?: string,
): Promise<ServedEmbedding> {
  const { image } = await assertCanViewImage(db, user, imageId);
  const versionId = modelVersionId ?? (await decodingModelVersion(db, image))?.id;
  if (!versionId) throw new TRPCError({ code: "NOT_FOUND", message: "no model version is active" });
  const embedding = await db.embedding.findUnique({
    where: { imageId_modelVersionId: { imageId, modelVersionId: versionId } },
  });
  if (!embedding) throw new TRPCError({ code: "NOT_FOUND", message: "the embedding is not ready yet" });
  return {
    bytes: await storage().get(embedding.storageKey),
    etag: `"${embedding.id}-${embedding.createdAt.getTime()}"`,
    dtype: embedding.dtype,
    shape: embedding.shape,
    imageWidth: image.width,
    imageHeight: image.height,
    modelVersionId: versionId,
  };
}
