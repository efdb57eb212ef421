import type { SessionUser } from "@sas/auth";
import type { PrismaClient } from "@sas/db";
import {
  BROWSER_DECODER_DERIVATION,
  BROWSER_DECODER_PARTS,
  BROWSER_PRE_OPTIMIZED_PARTS,
  type BrowserDecoderPart,
} from "@sas/sam";
import { materializeModelFiles, servedDecoderGraphs, servedGraphName } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";

export interface ServedModelFile {
  path: string;
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

async function versionGraphs(db: PrismaClient, modelVersionId: string) {
  const version = await db.modelVersion.findUnique({ where: { id: modelVersionId } });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: "model version not found" });
  const files = await materializeModelFiles(version, storage());
  return servedDecoderGraphs(files, BROWSER_DECODER_DERIVATION, undefined, BROWSER_PRE_OPTIMIZED_PARTS);
}

/**
 * The decoder graphs the annotation page runs for a model version (see `deriveBrowserDecoder`), derived
 * from the version's stock decoder (fetched from storage, see `materializeModelFiles`) and named by their
 * bytes' sha256 (`servedDecoderGraphs`). Any signed-in user may fetch them: weights are not project data,
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

/** One graph by its content-named file name; a name whose hash is not today's bytes is not found. */
export async function browserDecoderFile(
  db: PrismaClient,
  _user: Pick<SessionUser, "id">,
  modelVersionId: string,
  fileName: string,
): Promise<ServedModelFile> {
  const graphs = await versionGraphs(db, modelVersionId);
  const part = BROWSER_DECODER_PARTS.find(
    (p) => servedGraphName(BROWSER_DECODER_DERIVATION, p, graphs[p].sha256) === fileName,
  );
  if (!part)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "no such decoder graph (the page may be out of date)",
    });
  return { path: graphs[part].path, etag: `"${graphs[part].sha256}"` };
}
