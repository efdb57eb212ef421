import type { SessionUser } from "@sas/auth";
import type { PrismaClient } from "@sas/db";
import { BROWSER_DECODER_DERIVATION, type BrowserDecoderPart } from "@sas/sam";
import { derivedDecoderPaths } from "@sas/sam/model-files";
import { materializeModelFiles } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";

export interface ServedModelFile {
  path: string;
  /** Changes exactly when the bytes can: new weights or a new derivation. */
  etag: string;
}

/**
 * One of the decoder graphs the annotation page runs for a model version (see `deriveBrowserDecoder`),
 * derived from the version's stock decoder (fetched from storage, see `materializeModelFiles`) on first
 * request and cached on disk. Any signed-in user may fetch it: weights are not
 * project data, and the version id is what the project page hands out.
 */
export async function browserDecoderFile(
  db: PrismaClient,
  _user: Pick<SessionUser, "id">,
  modelVersionId: string,
  part: BrowserDecoderPart,
): Promise<ServedModelFile> {
  const version = await db.modelVersion.findUnique({ where: { id: modelVersionId } });
  if (!version) throw new TRPCError({ code: "NOT_FOUND", message: "model version not found" });
  const files = await materializeModelFiles(version, storage());
  const paths = await derivedDecoderPaths(files, BROWSER_DECODER_DERIVATION);
  return { path: paths[part], etag: `"${BROWSER_DECODER_DERIVATION.name}-${part}-${version.decoderSha256}"` };
}
