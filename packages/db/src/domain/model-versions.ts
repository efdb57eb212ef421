import { createReadStream } from "node:fs";
import { modelFileKey } from "@sas/sam/model-store";
import type { BlobStorage } from "@sas/storage";
import type { ModelVersion, PrismaClient } from "../generated/prisma/client";

export interface ModelVersionInput {
  name: string;
  /** The encoder's storage key (`models/<sha256>.onnx`); rows from before storage keys hold a host path. */
  encoderPath: string;
  /** sha256 of the encoder file, checked by the caller (workers refuse files that stop matching). */
  encoderSha256: string;
  decoderPath: string;
  decoderSha256: string;
  notes?: string;
}

/** Records a SAM encoder/decoder pair. Registering an existing name returns it unchanged. */
export async function registerModelVersion(
  db: PrismaClient,
  input: ModelVersionInput,
): Promise<ModelVersion> {
  return db.modelVersion.upsert({
    where: { name: input.name },
    update: {},
    create: { ...input, notes: input.notes ?? "" },
  });
}

/** Makes one version the active one; exactly one is active afterwards. */
export async function activateModelVersion(db: PrismaClient, id: string): Promise<void> {
  await db.$transaction([
    db.modelVersion.updateMany({ where: { isActive: true, NOT: { id } }, data: { isActive: false } }),
    db.modelVersion.update({ where: { id }, data: { isActive: true } }),
  ]);
}

/** A version as the admin page lists it: how much data was made with it. */
export interface ModelVersionSummary extends ModelVersion {
  embeddings: number;
  masks: number;
}

/** Every version, newest first, with its embedding and mask counts (two grouped counts, not one per row). */
export async function modelVersionSummaries(db: PrismaClient): Promise<ModelVersionSummary[]> {
  const [versions, embeddings, masks] = await Promise.all([
    db.modelVersion.findMany({ orderBy: { createdAt: "desc" } }),
    db.embedding.groupBy({ by: ["modelVersionId"], _count: { _all: true } }),
    db.mask.groupBy({ by: ["modelVersionId"], _count: { _all: true } }),
  ]);
  const embeddingCount = new Map(embeddings.map((e) => [e.modelVersionId, e._count._all]));
  const maskCount = new Map(masks.map((m) => [m.modelVersionId, m._count._all]));
  return versions.map((v) => ({
    ...v,
    embeddings: embeddingCount.get(v.id) ?? 0,
    masks: maskCount.get(v.id) ?? 0,
  }));
}

/** The registered version with the same name or the same pair of files, if any (uploads refuse both). */
export function findConflictingModelVersion(
  db: PrismaClient,
  input: Pick<ModelVersionInput, "name" | "encoderSha256" | "decoderSha256">,
): Promise<ModelVersion | null> {
  return db.modelVersion.findFirst({
    where: {
      OR: [{ name: input.name }, { encoderSha256: input.encoderSha256, decoderSha256: input.decoderSha256 }],
    },
  });
}

/** How far a project is embedded with one version: images that have its embedding, of all the project's images. */
export async function embeddingProgress(
  db: PrismaClient,
  projectId: string,
  modelVersionId: string,
): Promise<{ images: number; embedded: number }> {
  const [images, embedded] = await Promise.all([
    db.image.count({ where: { projectId } }),
    db.embedding.count({ where: { modelVersionId, image: { projectId } } }),
  ]);
  return { images, embedded };
}

/** Ids of a project's images that have no embedding for `modelVersionId` yet, a page at a time (keyset on id). */
export async function imagesWithoutEmbedding(
  db: PrismaClient,
  projectId: string,
  modelVersionId: string,
  after: string | null,
  take: number,
): Promise<string[]> {
  const rows = await db.image.findMany({
    where: {
      projectId,
      embeddings: { none: { modelVersionId } },
      ...(after ? { id: { gt: after } } : {}),
    },
    select: { id: true },
    orderBy: { id: "asc" },
    take,
  });
  return rows.map((r) => r.id);
}

/**
 * Copies a pair's files from local paths into storage at their content-addressed keys (skipping a key
 * that exists: it holds the same bytes) and returns the input with those keys in place of the paths, so
 * the row names files any host can fetch. Hashes are checked when a host loads the files.
 */
export async function storeModelFiles(
  blobs: BlobStorage,
  input: ModelVersionInput,
): Promise<ModelVersionInput> {
  const stored = async (filePath: string, sha256: string) => {
    const key = modelFileKey(sha256);
    if (!(await blobs.exists(key))) await blobs.put(key, createReadStream(filePath));
    return key;
  };
  return {
    ...input,
    encoderPath: await stored(input.encoderPath, input.encoderSha256),
    decoderPath: await stored(input.decoderPath, input.decoderSha256),
  };
}
