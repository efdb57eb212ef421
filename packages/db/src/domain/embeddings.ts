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
