import type { SessionUser } from "@sas/auth";
import { modelVersionForProject, type PrismaClient } from "@sas/db";
import { storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";
import { assertCanViewImage } from "../access";

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
 * annotator only their assigned images), for the given model version or the one the project uses. NOT_FOUND until the embedding exists (the image is still queued).
 */
export async function embeddingForViewer(
  db: PrismaClient,
  user: Pick<SessionUser, "id" | "role">,
  imageId: string,
  modelVersionId?: string,
): Promise<ServedEmbedding> {
  const { image } = await assertCanViewImage(db, user, imageId);
  const versionId = modelVersionId ?? (await modelVersionForProject(db, image.projectId))?.id;
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
