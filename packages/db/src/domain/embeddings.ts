import type { Embedding, ModelVersion, PrismaClient } from "../generated/prisma/client";

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
export async function decodingModelVersions(
  db: PrismaClient,
  image: { id: string; projectId: string },
): Promise<{ current: ModelVersion | null; decoding: ModelVersion | null }> {
  // One round trip (it is on the path of every mask save and image open): the project's version (its
  // pinned one, else the active one), and the newest version the image was embedded with when the
  // current one is not among them.
  const rows = await db.$queryRaw<(ModelVersion & { which: "current" | "embedded" })[]>`
    WITH cur AS (
      SELECT mv.* FROM "ModelVersion" mv
      WHERE mv.id = COALESCE(
        (SELECT p."modelVersionId" FROM "Project" p WHERE p.id = ${image.projectId}::uuid),
        (SELECT a.id FROM "ModelVersion" a WHERE a."isActive" LIMIT 1))
    ), embedded AS (
      SELECT e."modelVersionId" AS id, e."createdAt" FROM "Embedding" e WHERE e."imageId" = ${image.id}::uuid
    )
    SELECT 'current' AS which, cur.* FROM cur
    UNION ALL
    SELECT 'embedded' AS which, mv.* FROM "ModelVersion" mv
    WHERE mv.id = (SELECT id FROM embedded ORDER BY "createdAt" DESC LIMIT 1)
      AND EXISTS (SELECT 1 FROM cur)
      AND NOT EXISTS (SELECT 1 FROM embedded WHERE embedded.id = (SELECT id FROM cur))`;
  const strip = (row: (typeof rows)[number] | undefined): ModelVersion | null => {
    if (!row) return null;
    const { which: _, ...version } = row;
    return version;
  };
  const current = strip(rows.find((r) => r.which === "current"));
  const embedded = strip(rows.find((r) => r.which === "embedded"));
  return { current, decoding: embedded ?? current };
}
