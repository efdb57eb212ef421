import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "@sas/config";
import {
  activateModelVersion,
  embeddingProgress,
  findConflictingModelVersion,
  imagesWithoutEmbedding,
  type ModelVersion,
  modelVersionForProject,
  type PrismaClient,
} from "@sas/db";
import { enqueueEmbedding } from "@sas/queue";
import { ModelPairError, modelFileKey, validateModelPair } from "@sas/sam/node";
import type { BlobStorage } from "@sas/storage";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

/** Largest model file an upload accepts: SAM ViT-H's encoder is 2.5 GB, so 4 GiB leaves room for larger ones. */
export const MAX_MODEL_FILE_BYTES = 4 * 1024 ** 3;

const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "a sha256 is 64 hex digits")
  .transform((s) => s.toLowerCase());

/**
 * The upload's query string: the body is the encoder's bytes followed by the decoder's, and the two
 * lengths say where one ends (one request that streams, no multipart parser needed, and the browser can
 * send `new Blob([encoder, decoder])` with upload progress).
 */
export const modelUploadParams = z.object({
  name: z.string().trim().min(1).max(100),
  notes: z.string().max(2000).default(""),
  encoderBytes: z.coerce.number().int().min(1).max(MAX_MODEL_FILE_BYTES),
  decoderBytes: z.coerce.number().int().min(1).max(MAX_MODEL_FILE_BYTES),
  encoderSha256: sha256Hex.optional(),
  decoderSha256: sha256Hex.optional(),
  activate: z
    .enum(["1", "0", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
});
export type ModelUploadParams = z.infer<typeof modelUploadParams>;

export interface StagedModelFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

export interface StagedModelUpload {
  encoder: StagedModelFile;
  decoder: StagedModelFile;
  /** Removes the staged files; call it whatever happened. */
  cleanup(): Promise<void>;
}

const badRequest = (message: string) => new TRPCError({ code: "BAD_REQUEST", message });

function writeChunk(out: WriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

/**
 * Streams an upload body into two local temp files (never into storage: nothing reaches storage before
 * the pair is validated), hashing as it writes. BAD_REQUEST when the body is shorter or longer than the
 * two declared lengths.
 */
export async function stageModelUpload(
  body: ReadableStream<Uint8Array> | null,
  sizes: { encoderBytes: number; decoderBytes: number },
): Promise<StagedModelUpload> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sas-model-upload-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const parts = [
    { name: "encoder", size: sizes.encoderBytes, file: path.join(dir, "encoder.onnx") },
    { name: "decoder", size: sizes.decoderBytes, file: path.join(dir, "decoder.onnx") },
  ] as const;
  const hashes = parts.map(() => createHash("sha256"));
  const outs = parts.map((p) => createWriteStream(p.file));
  try {
    if (!body) throw badRequest("the upload has no body");
    const reader = body.getReader();
    let part = 0;
    let written = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      while (chunk.byteLength > 0) {
        if (part >= parts.length) {
          await reader.cancel();
          throw badRequest("the upload is longer than encoderBytes + decoderBytes");
        }
        const take = Math.min(chunk.byteLength, parts[part]!.size - written);
        const piece = chunk.subarray(0, take);
        hashes[part]!.update(piece);
        await writeChunk(outs[part]!, piece);
        written += take;
        chunk = chunk.subarray(take);
        if (written === parts[part]!.size) {
          part++;
          written = 0;
        }
      }
    }
    if (part < parts.length)
      throw badRequest(`the upload ended inside the ${parts[part]!.name} (fewer bytes than declared)`);
    await Promise.all(outs.map(closeStream));
    const [encoder, decoder] = parts.map((p, i) => ({
      path: p.file,
      sha256: hashes[i]!.digest("hex"),
      sizeBytes: p.size,
    })) as [StagedModelFile, StagedModelFile];
    return { encoder, decoder, cleanup };
  } catch (e) {
    await Promise.all(outs.map((o) => closeStream(o).catch(() => undefined)));
    await cleanup();
    throw e;
  }
}

/**
 * Registers an uploaded pair: checks the client's expected hashes, refuses a name or a pair that is already
 * registered (CONFLICT), runs the pair once on a fixture image (`validateModelPair`: BAD_REQUEST "not a SAM
 * encoder/decoder pair: …"), then stores both files at `models/<sha256>.onnx` and creates the row (the
 * row's encoderPath/decoderPath hold those storage keys), activating it when asked. Nothing is stored
 * before every check has passed.
 */
export async function registerUploadedModel(
  db: PrismaClient,
  blobs: BlobStorage,
  staged: Pick<StagedModelUpload, "encoder" | "decoder">,
  params: Pick<ModelUploadParams, "name" | "notes" | "encoderSha256" | "decoderSha256" | "activate">,
  log: Logger,
): Promise<ModelVersion> {
  for (const part of ["encoder", "decoder"] as const) {
    const expected = params[`${part}Sha256`];
    if (expected && expected !== staged[part].sha256)
      throw badRequest(
        `the ${part} arrived with sha256 ${staged[part].sha256}, expected ${expected} (corrupted or wrong file)`,
      );
  }
  const identity = {
    name: params.name,
    encoderSha256: staged.encoder.sha256,
    decoderSha256: staged.decoder.sha256,
  };
  const conflict = await findConflictingModelVersion(db, identity);
  if (conflict)
    throw new TRPCError({
      code: "CONFLICT",
      message:
        conflict.name === params.name
          ? `a model version named "${params.name}" exists`
          : `these files are already registered as "${conflict.name}"`,
    });
  try {
    const check = await validateModelPair({
      encoderPath: staged.encoder.path,
      encoderSha256: staged.encoder.sha256,
      decoderPath: staged.decoder.path,
      decoderSha256: staged.decoder.sha256,
    });
    log.info({ name: params.name, ...check }, "uploaded model pair validated");
  } catch (e) {
    if (e instanceof ModelPairError) throw badRequest(e.message);
    throw e;
  }
  for (const part of [staged.encoder, staged.decoder]) {
    const key = modelFileKey(part.sha256);
    // Content-addressed: an existing object under this key already holds exactly these bytes.
    if (!(await blobs.exists(key))) await blobs.put(key, createReadStream(part.path));
  }
  let version: ModelVersion;
  try {
    version = await db.modelVersion.create({
      data: {
        name: params.name,
        notes: params.notes,
        encoderPath: modelFileKey(staged.encoder.sha256),
        encoderSha256: staged.encoder.sha256,
        decoderPath: modelFileKey(staged.decoder.sha256),
        decoderSha256: staged.decoder.sha256,
      },
    });
  } catch (e) {
    // Lost a race with a concurrent upload of the same name (the unique index decides).
    if (e instanceof Error && "code" in e && e.code === "P2002")
      throw new TRPCError({ code: "CONFLICT", message: `a model version named "${params.name}" exists` });
    throw e;
  }
  if (params.activate) {
    await activateModelVersion(db, version.id);
    version = { ...version, isActive: true };
  }
  log.info(
    { modelVersionId: version.id, name: version.name, active: version.isActive },
    "model version registered",
  );
  return version;
}

/** Enqueues in pages so a project of 100k images never holds every id at once. */
const REEMBED_PAGE = 500;

/**
 * Asks for an embedding with `modelVersionId` (default: the version the project decodes with) for every
 * image of the project that has none yet. Embedding jobs are idempotent and their ids derived from (image,
 * version), so calling this again while jobs are queued adds nothing.
 */
export async function reembedProject(
  db: PrismaClient,
  projectId: string,
  modelVersionId: string | undefined,
): Promise<{ modelVersionId: string; queued: number; images: number; embedded: number }> {
  const project = await db.project.findUnique({ where: { id: projectId }, select: { id: true } });
  if (!project) throw new TRPCError({ code: "NOT_FOUND", message: "project not found" });
  const version = modelVersionId
    ? await db.modelVersion.findUnique({ where: { id: modelVersionId } })
    : await modelVersionForProject(db, projectId);
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: "model version not found" });
  let queued = 0;
  let after: string | null = null;
  for (;;) {
    const ids = await imagesWithoutEmbedding(db, projectId, version.id, after, REEMBED_PAGE);
    for (const id of ids) await enqueueEmbedding(id, version.id);
    queued += ids.length;
    if (ids.length < REEMBED_PAGE) break;
    after = ids[ids.length - 1]!;
  }
  return { modelVersionId: version.id, queued, ...(await embeddingProgress(db, projectId, version.id)) };
}
