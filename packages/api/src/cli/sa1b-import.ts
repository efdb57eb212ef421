import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "@sas/config";
import {
  checkDatabase,
  DatabaseUnavailableError,
  disconnectPrisma,
  findOrCreateProjectByName,
  prisma,
} from "@sas/db";
import { closeQueues } from "@sas/queue";
import { checkSa1bSource } from "@sas/sa1b/import";
import { storage } from "@sas/storage";
import { z } from "zod";
import { formatSa1bSummary, importSa1b, Sa1bSourceError } from "../services/sa1b-import";

/**
 * Imports SA-1B data into a project (created when missing), to continue from an earlier export or to
 * start from a public SA-1B sample:
 *
 *   npm run sa1b:import -- --project Demo ./export/sa_000000.tar ./more-shards/ ./loose-folder/
 *
 * Each path is a `.tar` shard (`.tar.gz` too) or a folder of loose `sa_*.json` + images. Every file is
 * checked; a bad one is reported with its error and nothing of it is stored, the good ones import.
 * Prints one line per file and a summary. Exit codes: 0 all imported, 1 some file failed or the import
 * could not run (no database, unreadable path; one `error:` line on stderr), 2 bad arguments.
 */

const usage = "usage: npm run sa1b:import -- --project NAME PATH [PATH...]   (PATH: a folder or .tar shard)";

const argsSchema = z.object({
  project: z.string({ error: "--project NAME is required" }).trim().min(1, "--project is empty"),
  paths: z.array(z.string().trim().min(1)).min(1, "give at least one folder or .tar to import"),
});

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed: { values: { project?: string; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { project: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const args = argsSchema.safeParse({ project: parsed.values.project, paths: parsed.positionals });
  if (!args.success) {
    process.stderr.write(`error: ${args.error.issues.map((i) => i.message).join("; ")}\n${usage}\n`);
    return 2;
  }
  // `npm run` moves to the repository root; a relative path means the folder the user typed it in.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const paths = args.data.paths.map((p) => path.resolve(cwd, p));
  try {
    // Every path and the database are checked before anything is written.
    for (const p of paths) await checkSa1bSource(p);
    const db = prisma();
    await checkDatabase(db);
    const project = await findOrCreateProjectByName(db, args.data.project, "sa1b:import");
    process.stdout.write(`Importing into "${project.name}"${project.created ? " (new project)" : ""}\n`);
    const summary = await importSa1b({
      db,
      blobs: storage(),
      projectId: project.id,
      paths,
      onProgress: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${formatSa1bSummary(summary)}\n`);
    return summary.failed.length > 0 ? 1 : 0;
  } catch (error) {
    if (
      error instanceof Sa1bSourceError ||
      error instanceof ConfigError ||
      error instanceof DatabaseUnavailableError
    ) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    // Anything else (the database going away mid-import, a full disk): still one line, not a stack.
    const message = (error instanceof Error ? error.message : String(error))
      .split("\n")
      .filter(Boolean)
      .at(-1);
    process.stderr.write(`error: the import stopped: ${message}\n`);
    return 1;
  } finally {
    await closeQueues();
    await disconnectPrisma();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
