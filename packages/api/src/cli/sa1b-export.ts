import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "@sas/config";
import { disconnectPrisma, exportParamsSchema, type PrismaClient, prisma } from "@sas/db";
import { ExportDataError, writeSa1bExport } from "@sas/db/export";
import { LocalDiskStorage, storage } from "@sas/storage";
import { z } from "zod";

/**
 * SA-1B export from the command line, for pipelines: the same writer as the export job, into a folder.
 * Reads DATABASE_URL and DATA_DIR (storage) like the app; writes nothing to the database.
 *
 *   npm run sa1b:export -- --project Demo --out ./release --shortest-side 1500 --sources automatic
 *
 * Exit 0 when the export is written; 2 for bad arguments; 1 for anything else, with one `error:` line.
 */

export const usage = `usage: npm run sa1b:export -- --project <name or id> --out <dir> [options]
  --shortest-side N     downsample so the shortest side is at most N pixels (SA-1B: 1500)
  --shard-size N        images per tar shard (default 1000)
  --coco                also write COCO instance-segmentation JSON (coco.json)
  --sources P           automatic (as SA-1B released) or all (default)
  --source S            manual | semi_auto | auto (repeatable)
  --stage S             assisted_manual | semi_automatic | fully_automatic (repeatable)
  --status S            accepted | proposed (repeatable; default accepted)
  --reviewed-only       only masks a reviewer has decided on
  --decision D          approved | corrected (repeatable)
  --from DATE --to DATE masks created in this range (inclusive, ISO dates)
  --label L             masks with this label
  --val-fraction F      share of images in the manifest's val split (default 0.05)`;

const number = (name: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `${name} must be a number`)
    .transform(Number)
    .optional();

const argsSchema = z.object({
  project: z.string({ error: "--project is required" }).min(1),
  out: z.string({ error: "--out is required" }).min(1),
  "shortest-side": number("--shortest-side"),
  "shard-size": number("--shard-size"),
  "val-fraction": number("--val-fraction"),
  coco: z.boolean().optional(),
  sources: z.string().optional(),
  source: z.array(z.string()).optional(),
  stage: z.array(z.string()).optional(),
  status: z.array(z.string()).optional(),
  "reviewed-only": z.boolean().optional(),
  decision: z.array(z.string()).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  label: z.string().optional(),
});

async function findProject(db: PrismaClient, ref: string) {
  const select = { id: true, name: true } as const;
  if (z.uuid().safeParse(ref).success) {
    const byId = await db.project.findUnique({ where: { id: ref }, select });
    if (byId) return byId;
  }
  return db.project.findUnique({ where: { name: ref }, select });
}

const oneLine = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ");

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        project: { type: "string" },
        out: { type: "string" },
        "shortest-side": { type: "string" },
        "shard-size": { type: "string" },
        "val-fraction": { type: "string" },
        coco: { type: "boolean" },
        sources: { type: "string" },
        source: { type: "string", multiple: true },
        stage: { type: "string", multiple: true },
        status: { type: "string", multiple: true },
        "reviewed-only": { type: "boolean" },
        decision: { type: "string", multiple: true },
        from: { type: "string" },
        to: { type: "string" },
        label: { type: "string" },
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
    process.stderr.write(`error: ${oneLine(args.error)}\n${usage}\n`);
    return 2;
  }
  const a = args.data;
  const params = exportParamsSchema.safeParse({
    filters: {
      sourcePreset: a.sources,
      sources: a.source,
      stages: a.stage,
      statuses: a.status,
      reviewedOnly: a["reviewed-only"],
      reviewDecisions: a.decision,
      createdFrom: a.from,
      createdTo: a.to,
      label: a.label,
    },
    options: {
      shortestSide: a["shortest-side"],
      shardSize: a["shard-size"],
      coco: a.coco,
      valFraction: a["val-fraction"],
    },
  });
  if (!params.success) {
    process.stderr.write(`error: ${oneLine(params.error)}\n`);
    return 2;
  }
  // `npm run` moves to the repository root; a relative path means the folder the user typed it in.
  const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), a.out);
  try {
    const db = prisma();
    const project = await findProject(db, a.project);
    if (!project) {
      process.stderr.write(`error: no project named or with id ${JSON.stringify(a.project)}\n`);
      return 1;
    }
    await mkdir(out, { recursive: true });
    const started = performance.now();
    const result = await writeSa1bExport(
      db,
      storage(),
      new LocalDiskStorage(out),
      {
        exportId: randomUUID(),
        projectId: project.id,
        projectName: project.name,
        params: params.data,
        createdAt: new Date(),
      },
      {
        onProgress: async (p) => {
          process.stdout.write(`${p.doneImages}/${p.totalImages} images, ${p.masks} masks\n`);
        },
      },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `exported ${result.images} images, ${result.masks} masks of ${project.name} to ${out} ` +
        `(${result.files.length} files, ${(result.sizeBytes / 1024 / 1024).toFixed(1)} MB, ${seconds} s)\n`,
    );
    return 0;
  } catch (error) {
    const message =
      error instanceof ConfigError || error instanceof ExportDataError || isFsError(error)
        ? (error as Error).message
        : `export failed: ${(error as Error).message.split("\n")[0]}`;
    process.stderr.write(`error: ${message}\n`);
    return 1;
  } finally {
    await disconnectPrisma();
  }
}

function isFsError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
