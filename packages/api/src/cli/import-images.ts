import { createReadStream } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "@sas/config";
import { disconnectPrisma, ImageRejectedError, type PrismaClient, prisma } from "@sas/db";
import { closeQueues } from "@sas/queue";
import { type BlobStorage, storage } from "@sas/storage";
import { Parser, type ReadEntry } from "tar";
import { z } from "zod";
import { ingestAndRequestEmbedding, MAX_UPLOAD_BYTES } from "../services/ingest";

/**
 * Server-side bulk import: every image in a folder (recursively) or a tar / tar.gz archive goes into a
 * project through the same path as a browser upload (checks, dedupe, storage, embedding request).
 *
 *   npm run import:images -- --project Demo --from ./photos
 *   npm run import:images -- --project <project id> --from photos.tar.gz
 *
 * Archives are streamed, never extracted to disk. Files without an image extension, hidden files and
 * macOS resource forks are skipped. Exit code 0 unless nothing could be read (bad arguments, no such
 * project, an unreadable source, an archive that is not one).
 */

const imageExtensions = new Set([
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
  ".tif",
  ".tiff",
  ".gif",
  ".avif",
  ".heic",
  ".heif",
]);

/** One file found in the source: read lazily (folders) or already read (archives). */
export interface SourceEntry {
  path: string;
  size: number;
  read: () => Promise<Uint8Array>;
  /** Set when the entry is refused before any image check (too large, cut off by the archive's end). */
  problem?: string;
  /** Set when the entry is a link that is not followed (read is then never called). */
  skip?: SkipReason;
}

const tooLargeProblem = `larger than the ${MAX_UPLOAD_BYTES / 1024 / 1024} MB limit`;
const nothing = () => Promise.resolve(new Uint8Array(0));

export type SkipReason =
  | "not an image"
  | "hidden file"
  | "symbolic link in the archive"
  | "hard link in the archive"
  | "symbolic link out of the folder"
  | "broken symbolic link";

/** Skips that the summary lists one by one: links a user may have expected to be imported. */
const linkSkips = new Set<SkipReason>([
  "symbolic link in the archive",
  "hard link in the archive",
  "symbolic link out of the folder",
  "broken symbolic link",
]);

export interface ImportSummary {
  added: number;
  duplicates: number;
  rejected: { path: string; reason: string }[];
  skipped: { path: string; reason: SkipReason }[];
  /** Why new images are waiting for their embedding, when they are; null when all were queued. */
  embeddingNotQueued: string | null;
  /** An error that stopped reading the source partway (a truncated archive), after `read` entries. */
  sourceError: string | null;
  /** Entries the source yielded, including skipped ones. */
  read: number;
}

export class ImportSourceError extends Error {
  override name = "ImportSourceError";
}

function skipReason(entryPath: string): SkipReason | null {
  const parts = entryPath.split("/");
  // Finder and macOS tar put `._name.jpg` resource forks and `__MACOSX/` folders beside real files.
  if (
    parts.some((part) => part.startsWith(".") && part !== "." && part !== "..") ||
    parts.includes("__MACOSX")
  )
    return "hidden file";
  if (!imageExtensions.has(path.extname(entryPath).toLowerCase())) return "not an image";
  return null;
}

/**
 * Files under a folder, depth first in name order, so runs print the same order every time. A symbolic
 * link is followed only to a file inside the folder (never into folders, which could loop, and never
 * out of the folder: an import must not read /etc/passwd because a link said so); others are listed as
 * skipped.
 */
export async function* folderEntries(root: string, relative = ""): AsyncGenerator<SourceEntry> {
  const realRoot = await realpath(root);
  const dirents = await readdir(path.join(root, relative), { withFileTypes: true });
  dirents.sort((a, b) => a.name.localeCompare(b.name));
  for (const dirent of dirents) {
    const rel = relative ? `${relative}/${dirent.name}` : dirent.name;
    const full = path.join(root, rel);
    if (dirent.isDirectory()) {
      yield* folderEntries(root, rel);
    } else if (dirent.isFile()) {
      const info = await stat(full);
      yield { path: rel, size: info.size, read: () => readFile(full) };
    } else if (dirent.isSymbolicLink()) {
      const target = await realpath(full).catch(() => null);
      const info = target ? await stat(target).catch(() => null) : null;
      if (!target || !info) {
        yield { path: rel, size: 0, read: nothing, skip: "broken symbolic link" };
      } else if (!target.startsWith(realRoot + path.sep)) {
        yield { path: rel, size: 0, read: nothing, skip: "symbolic link out of the folder" };
      } else if (info.isFile()) {
        yield { path: rel, size: info.size, read: () => readFile(target) };
      }
    }
  }
}

/**
 * Regular files in a tar, gzip or not (the parser sniffs), read one 64 KiB chunk at a time. The parser
 * runs synchronously inside each write, so after a write every entry that ended in that chunk is
 * complete; they are yielded (and ingested) before the next chunk is read, which bounds memory to
 * a chunk plus the entry in progress.
 */
export async function* tarEntries(file: string): AsyncGenerator<SourceEntry> {
  const done: SourceEntry[] = [];
  let failure: Error | null = null;
  let sawEntry = false;
  const parser = new Parser({
    onReadEntry(entry: ReadEntry) {
      sawEntry = true;
      // The parser waits for each entry to be consumed: anything not read must be resumed to flow past.
      if (entry.type === "SymbolicLink" || entry.type === "Link") {
        const skip = entry.type === "Link" ? "hard link in the archive" : "symbolic link in the archive";
        done.push({ path: entry.path.replace(/^\.\//, ""), size: 0, read: nothing, skip });
        entry.resume();
        return;
      }
      if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") {
        entry.resume();
        return;
      }
      const entryPath = entry.path.replace(/^\.\//, "");
      if (entry.size > MAX_UPLOAD_BYTES || skipReason(entryPath)) {
        // Not buffered: refused by its size, or skipped by its name.
        const problem = entry.size > MAX_UPLOAD_BYTES ? tooLargeProblem : undefined;
        done.push({ path: entryPath, size: entry.size, read: nothing, ...(problem ? { problem } : {}) });
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      entry.on("end", () => {
        const bytes = Buffer.concat(chunks);
        // A truncated archive ends its last entry early; say so rather than "damaged image".
        if (bytes.byteLength < entry.size) {
          done.push({
            path: entryPath,
            size: entry.size,
            read: nothing,
            problem: "cut off by the end of the archive",
          });
        } else {
          done.push({ path: entryPath, size: bytes.byteLength, read: () => Promise.resolve(bytes) });
        }
      });
    },
  });
  parser.on("error", (error: Error) => {
    failure ??= error;
  });
  // Non-strict: a damaged entry is reported and skipped, the rest of the archive still imports.
  parser.on("warn", (code: string, message: string) => {
    if (code === "TAR_BAD_ARCHIVE" || !sawEntry) failure ??= new Error(`${code}: ${message}`);
  });
  const ended = new Promise<void>((resolve) => {
    parser.once("end", resolve);
    parser.once("error", () => resolve());
  });

  const drain = function* () {
    while (done.length > 0) yield done.shift()!;
  };
  for await (const chunk of createReadStream(file)) {
    parser.write(chunk as Buffer);
    yield* drain();
    if (failure) break;
  }
  if (!failure) {
    parser.end();
    await ended;
  }
  yield* drain();
  if (failure)
    throw new ImportSourceError(`the archive is damaged or not a tar file (${(failure as Error).message})`);
}

export async function sourceEntries(from: string): Promise<AsyncGenerator<SourceEntry>> {
  const info = await stat(from).catch(() => null);
  if (!info) throw new ImportSourceError(`${from} does not exist`);
  if (info.isDirectory()) return folderEntries(from);
  if (info.isFile()) return tarEntries(from);
  throw new ImportSourceError(`${from} is neither a folder nor a file`);
}

export interface ImportOptions {
  db: PrismaClient;
  blobs: BlobStorage;
  projectId: string;
  from: string;
  /** One line per file as it is handled. */
  onProgress?: (line: string) => void;
}

export async function importImages(options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = {
    added: 0,
    duplicates: 0,
    rejected: [],
    skipped: [],
    embeddingNotQueued: null,
    sourceError: null,
    read: 0,
  };
  const print = options.onProgress ?? (() => {});
  const entries = await sourceEntries(options.from);
  try {
    for await (const entry of entries) {
      summary.read += 1;
      const skip = entry.skip ?? skipReason(entry.path);
      if (skip) {
        summary.skipped.push({ path: entry.path, reason: skip });
        print(`skipped    ${entry.path} (${skip})`);
        continue;
      }
      const problem = entry.problem ?? (entry.size > MAX_UPLOAD_BYTES ? tooLargeProblem : undefined);
      if (problem) {
        summary.rejected.push({ path: entry.path, reason: problem });
        print(`rejected   ${entry.path}: ${problem}`);
        continue;
      }
      try {
        const outcome = await ingestAndRequestEmbedding(options.db, options.blobs, {
          projectId: options.projectId,
          filename: entry.path,
          bytes: await entry.read(),
        });
        if (outcome.embedding && !outcome.embedding.queued)
          summary.embeddingNotQueued = outcome.embedding.reason;
        const { width, height } = outcome.image;
        if (outcome.status === "created") {
          summary.added += 1;
          print(`added      ${entry.path} (${width}x${height})`);
        } else {
          summary.duplicates += 1;
          print(`duplicate  ${entry.path} (same bytes as ${outcome.image.filename})`);
        }
      } catch (error) {
        if (!(error instanceof ImageRejectedError)) throw error;
        summary.rejected.push({ path: entry.path, reason: error.reason });
        print(`rejected   ${entry.path}: ${error.reason}`);
      }
    }
  } catch (error) {
    if (!(error instanceof ImportSourceError)) throw error;
    // Whatever came before the damage is imported; the summary says where reading stopped.
    summary.sourceError = error.message;
  }
  return summary;
}

export function formatSummary(summary: ImportSummary, projectName: string, from: string): string {
  const lines = [
    `Imported into "${projectName}" from ${from}:`,
    `  added       ${summary.added}`,
    `  duplicates  ${summary.duplicates}`,
    `  rejected    ${summary.rejected.length}`,
    ...summary.rejected.map((r) => `    ${r.path}: ${r.reason}`),
    `  skipped     ${summary.skipped.length}${summary.skipped.length ? " (not images, hidden files or links)" : ""}`,
    ...summary.skipped.filter((s) => linkSkips.has(s.reason)).map((s) => `    ${s.path}: ${s.reason}`),
  ];
  if (summary.embeddingNotQueued) lines.push(`Embeddings not requested: ${summary.embeddingNotQueued}.`);
  else if (summary.added > 0)
    lines.push("Embeddings requested; the project page shows when images are ready.");
  if (summary.sourceError) lines.push(`Reading stopped early: ${summary.sourceError}.`);
  return lines.join("\n");
}

const argsSchema = z.object({
  project: z.string({ error: "--project NAME|ID is required" }).trim().min(1, "--project is empty"),
  from: z.string({ error: "--from DIR|FILE.tar[.gz] is required" }).trim().min(1, "--from is empty"),
});

const usage = "usage: npm run import:images -- --project NAME|ID --from DIR|FILE.tar[.gz]";

async function findProject(db: PrismaClient, ref: string) {
  const select = { id: true, name: true } as const;
  if (z.uuid().safeParse(ref).success) {
    const byId = await db.project.findUnique({ where: { id: ref }, select });
    if (byId) return byId;
  }
  return db.project.findUnique({ where: { name: ref }, select });
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        project: { type: "string" },
        from: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const args = argsSchema.safeParse(values);
  if (!args.success) {
    process.stderr.write(`error: ${args.error.issues.map((i) => i.message).join("; ")}\n${usage}\n`);
    return 2;
  }
  // `npm run` moves to the repository root; a relative path means the folder the user typed it in.
  const from = path.resolve(process.env.INIT_CWD ?? process.cwd(), args.data.from);
  try {
    const db = prisma();
    const project = await findProject(db, args.data.project);
    if (!project) {
      process.stderr.write(`error: no project named or with id ${JSON.stringify(args.data.project)}\n`);
      return 1;
    }
    const summary = await importImages({
      db,
      blobs: storage(),
      projectId: project.id,
      from,
      onProgress: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${formatSummary(summary, project.name, from)}\n`);
    if (summary.read === 0) {
      process.stderr.write(`error: nothing could be read from ${from}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof ImportSourceError || error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await closeQueues();
    await disconnectPrisma();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
