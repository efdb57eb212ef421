/**
 * SA-1B import readers (Node only: they read files; kept out of the package's main entry, which runs
 * in the browser too). Import from `@sas/sa1b/import`.
 */
import { access, constants, stat } from "node:fs/promises";
import { readSa1bFolder } from "./folder";
import { readSa1bTar } from "./tar";
import type { DecodedSize, Sa1bReadItem, Sa1bReadOptions } from "./types";

export { readSa1bFolder } from "./folder";
export { MAX_MEMBER_BYTES, readSa1bTar } from "./tar";
export type * from "./types";
export { checkSa1bAnnotations, imageSizeProblem, type Sa1bCheck } from "./validate";

/** A path that cannot be read at all: the whole import stops (unlike a bad file inside it). */
export class Sa1bSourceError extends Error {
  override name = "Sa1bSourceError";
}

/** Throws Sa1bSourceError unless the path is a readable folder or file; says which it is. */
export async function checkSa1bSource(sourcePath: string): Promise<"folder" | "file"> {
  const info = await stat(sourcePath).catch(() => null);
  if (!info) throw new Sa1bSourceError(`${sourcePath} does not exist`);
  if (!info.isDirectory() && !info.isFile()) {
    throw new Sa1bSourceError(`${sourcePath} is neither a folder nor a file`);
  }
  try {
    await access(sourcePath, constants.R_OK | (info.isDirectory() ? constants.X_OK : 0));
  } catch {
    throw new Sa1bSourceError(`${sourcePath} cannot be read (permission denied)`);
  }
  return info.isDirectory() ? "folder" : "file";
}

/**
 * Reads an SA-1B folder or shard, whichever the path is. Throws Sa1bSourceError at once, before
 * yielding anything, if the path does not exist or cannot be read.
 */
export async function openSa1bSource<P extends DecodedSize>(
  sourcePath: string,
  options: Sa1bReadOptions<P>,
): Promise<AsyncGenerator<Sa1bReadItem<P>>> {
  const kind = await checkSa1bSource(sourcePath);
  return kind === "folder" ? readSa1bFolder(sourcePath, options) : readSa1bTar(sourcePath, options);
}
