import type { Logger } from "@sas/config";
import { type Image, ingestImage, modelVersionForProject, type PrismaClient } from "@sas/db";
import { enqueueEmbedding } from "@sas/queue";
import type { BlobStorage } from "@sas/storage";

/** Largest original accepted, by the upload route and the import CLI alike. */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

export interface IngestRequest {
  projectId: string;
  filename: string;
  bytes: Uint8Array;
  uploadedById?: string | null;
}

/** What happened to the embedding request that follows a new image. */
export type EmbeddingRequest = { queued: true; modelVersionId: string } | { queued: false; reason: string };

/** The fields of an image that callers outside the server may see. */
export interface ImageSummary {
  id: string;
  projectId: string;
  filename: string;
  mimeType: string;
  width: number;
  height: number;
  orientation: number;
  sizeBytes: number;
  sha256: string;
  status: Image["status"];
  error: string | null;
  createdAt: Date;
}

export interface IngestOutcome {
  status: "created" | "duplicate";
  image: ImageSummary;
  /** Null when nothing was asked (a duplicate that already has or is getting its embedding). */
  embedding: EmbeddingRequest | null;
}

export function summarizeImage(image: Image): ImageSummary {
  return {
    id: image.id,
    projectId: image.projectId,
    filename: image.filename,
    mimeType: image.mimeType,
    width: image.width,
    height: image.height,
    orientation: image.orientation,
    sizeBytes: Number(image.sizeBytes),
    sha256: image.sha256,
    status: image.status,
    error: image.error,
    createdAt: image.createdAt,
  };
}

async function requestEmbedding(
  db: PrismaClient,
  image: Image,
  log: Logger | undefined,
): Promise<EmbeddingRequest> {
  const modelVersionId = (await modelVersionForProject(db, image.projectId))?.id;
  if (!modelVersionId) {
    return { queued: false, reason: "no model version is active; the image waits until one is" };
  }
  try {
    await enqueueEmbedding(image.id, modelVersionId);
    return { queued: true, modelVersionId };
  } catch (error) {
    // The image is stored and recorded already; failing the whole upload now would only make the user
    // retry into a "duplicate". It stays "uploaded", and uploading it again asks again (see below).
    log?.error({ err: error, imageId: image.id }, "could not queue the embedding");
    return { queued: false, reason: "the embedding queue is unreachable; upload the file again later" };
  }
}

/**
 * Stores and records an image (refusing bad input with ImageRejectedError and writing nothing), then asks
 * for its embedding with the project's model version. Shared by the upload route and the import CLI.
 */
export async function ingestAndRequestEmbedding(
  db: PrismaClient,
  blobs: BlobStorage,
  input: IngestRequest,
  log?: Logger,
): Promise<IngestOutcome> {
  const result = await ingestImage(db, blobs, input);
  // A duplicate still "uploaded" never got its job (no model then, or Redis was down): ask again. The
  // job id is derived from (image, model version), so this never queues the same work twice.
  const ask = result.status === "created" || result.image.status === "uploaded";
  const embedding = ask ? await requestEmbedding(db, result.image, log) : null;
  return { status: result.status, image: summarizeImage(result.image), embedding };
}

/**
 * Asks again for every embedding still missing (images left "uploaded": seeded before any queue existed,
 * or stored while Redis was down). Safe to run at every start: job ids make repeats no-ops.
 */
export async function requestPendingEmbeddings(
  db: PrismaClient,
  options: { projectId?: string; log?: Logger } = {},
): Promise<{ requested: number; waitingForModel: number }> {
  const pending = await db.image.findMany({
    where: { status: "uploaded", ...(options.projectId ? { projectId: options.projectId } : {}) },
    select: { id: true, projectId: true },
    orderBy: { createdAt: "asc" },
  });
  const versions = new Map<string, string | null>();
  let requested = 0;
  let waitingForModel = 0;
  for (const image of pending) {
    if (!versions.has(image.projectId)) {
      versions.set(image.projectId, (await modelVersionForProject(db, image.projectId))?.id ?? null);
    }
    const modelVersionId = versions.get(image.projectId);
    if (!modelVersionId) {
      waitingForModel += 1;
      continue;
    }
    await enqueueEmbedding(image.id, modelVersionId);
    requested += 1;
  }
  options.log?.info({ requested, waitingForModel }, "requested pending embeddings");
  return { requested, waitingForModel };
}
