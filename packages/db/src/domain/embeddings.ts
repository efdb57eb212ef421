import type { Embedding, PrismaClient } from "../generated/prisma/client";

export const EMBEDDING_DTYPE = "float16";
export const EMBEDDING_SHAPE = [1, 256, 64, 64] as const;

/** Deterministic, so a re-run of the same job overwrites the same object instead of leaving orphans. */
export function embeddingKey(modelVersionId: string, imageId: string): string {
  return `embeddings/${modelVersionId}/${imageId}.f16`;
}

export interface EmbeddingRecord {
  imageId: string;
  modelVersionId: string;
  storageKey: string;
  sizeBytes: number;
  encodeMs: number;
}

/**
 * Records a stored embedding and marks the image ready, in one transaction. Upsert on
 * (image, model version): a job that runs twice (a worker killed after the write) leaves one row.
 */
export async function recordEmbedding(db: PrismaClient, record: EmbeddingRecord): Promise<Embedding> {
  const { imageId, modelVersionId, ...rest } = record;
  const [embedding] = await db.$transaction([
    db.embedding.upsert({
      where: { imageId_modelVersionId: { imageId, modelVersionId } },
      create: { imageId, modelVersionId, dtype: EMBEDDING_DTYPE, shape: [...EMBEDDING_SHAPE], ...rest },
      update: { dtype: EMBEDDING_DTYPE, shape: [...EMBEDDING_SHAPE], ...rest },
    }),
    db.image.update({ where: { id: imageId }, data: { status: "ready", error: null } }),
  ]);
  return embedding;
}

/** The model version an image's project uses: its own, or the active one. */
export async function modelVersionForProject(db: PrismaClient, projectId: string) {
  const project = await db.project.findUnique({ where: { id: projectId }, select: { modelVersion: true } });
  return project?.modelVersion ?? (await db.modelVersion.findFirst({ where: { isActive: true } }));
}

/**
 * The version an image is decoded with on the annotation page, and the project's current one. The rule:
 * the current version when the image has its embedding or has none at all (it is queued on upload); an
 * image embedded only with older versions is decoded with the newest of those until the current one's
 * embedding exists, so activating a version never makes an embedded image unusable. Manual masks record
 * `decoding`, the version whose embedding made them.
 */
export async function decodingModelVersions(db: PrismaClient, image: { id: string; projectId: string }) {
  const current = await modelVersionForProject(db, image.projectId);
  const embeddings = await db.embedding.findMany({
    where: { imageId: image.id },
    orderBy: { createdAt: "desc" },
    select: { modelVersion: true },
  });
  const decoding =
    !current || embeddings.length === 0 || embeddings.some((e) => e.modelVersion.id === current.id)
      ? current
      : embeddings[0]!.modelVersion;
  return { current, decoding };
}
