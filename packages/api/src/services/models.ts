import type { SessionUser } from "@sas/auth";
import type { PrismaClient } from "@sas/db";
import {
  BROWSER_DECODER_DERIVATION,
  BROWSER_DECODER_PARTS,
  BROWSER_PRE_OPTIMIZED_PARTS,
  type BrowserDecoderPart,
} from "@sas/sam";
import { forgetStoredGraphs, readModelFileBytes, servedGraphName, storedDecoderGraphs } from "@sas/sam/node";
import { type BlobStorage, storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";

export interface ServedModelFile {
  /** Where the bytes are in blob storage. */
  key: string;
  bytes: number;
  /** The bytes' sha256, quoted: the ETag can only change with the bytes. */
  etag: string;
}

/** One decoder graph as the browser fetches it: the URL ends with a name that carries its bytes' sha256. */
export interface BrowserDecoderGraph {
  part: BrowserDecoderPart;
  url: string;
  sha256: string;
  bytes: number;
  /** Shipped optimised: the browser creates its session with graph optimisation off. */
  preOptimized: boolean;
}

/**
 * A version's browser graphs, kept in blob storage (`storedDecoderGraphs`): the first process to need
 * them derives them from the stock decoder (read from storage, not copied to this host's disk) and stores
 * them; every other process on any host reads the stored manifest.
 */
async function versionGraphs(db: PrismaClient, modelVersionId: string, blobs: BlobStorage = storage()) {
  const version = await db.modelVersion.findUnique({
    where: { id: modelVersionId },
    select: { decoderPath: true, decoderSha256: true },
  });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: "model version not found" });
  return storedDecoderGraphs(
    {
      sha256: version.decoderSha256,
      read: () => readModelFileBytes(version.decoderPath, version.decoderSha256, blobs),
    },
    BROWSER_DECODER_DERIVATION,
    blobs,
    BROWSER_PRE_OPTIMIZED_PARTS,
  );
}

/**
 * The decoder graphs the annotation page runs for a model version (see `deriveBrowserDecoder`), derived
 * from the version's stock decoder and named by their bytes' sha256, kept in blob storage
 * (`versionGraphs`). Any signed-in user may fetch them: weights are not project data,
 * and the version id is what the project page hands out.
 */
export async function browserDecoderGraphs(
  db: PrismaClient,
  _user: Pick<SessionUser, "id">,
  modelVersionId: string,
): Promise<BrowserDecoderGraph[]> {
  const graphs = await versionGraphs(db, modelVersionId);
  return BROWSER_DECODER_PARTS.map((part) => ({
    part,
    url: `/api/models/${modelVersionId}/decoder/${servedGraphName(BROWSER_DECODER_DERIVATION, part, graphs[part].sha256)}`,
    sha256: graphs[part].sha256,
    bytes: graphs[part].bytes,
    preOptimized: graphs[part].preOptimized,
  }));
}

/**
 * One graph by its content-named file name; a name whose hash is not today's bytes is not found. With
 * `refresh`, what this process knew about the stored graphs is dropped first (the route found an object
 * missing: someone emptied the bucket's graphs), so they are read or derived and stored again.
 */
export async function browserDecoderFile(
  db: PrismaClient,
  _user: Pick<SessionUser, "id">,
  modelVersionId: string,
  fileName: string,
  options: { refresh?: boolean } = {},
): Promise<ServedModelFile> {
  const blobs = storage();
  if (options.refresh) forgetStoredGraphs(blobs);
  const graphs = await versionGraphs(db, modelVersionId, blobs);
  const part = BROWSER_DECODER_PARTS.find(
    (p) => servedGraphName(BROWSER_DECODER_DERIVATION, p, graphs[p].sha256) === fileName,
  );
  if (!part)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "no such decoder graph (the page may be out of date)",
    });
  return { key: graphs[part].key, bytes: graphs[part].bytes, etag: `"${graphs[part].sha256}"` };
}
