import { z } from "zod";
import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { EXPORT_SOURCE_PRESETS, type ExportFilters, exportParamsSchema } from "../exports";
import { RuleViolation } from "../users";

/**
 * The filters every statistics view takes: which project, a date range over the mask's creation time
 * (`from` inclusive, `to` exclusive), and optionally one stage, source, model version and annotator (the
 * mask's author). `exportId` narrows to the masks an export of the project selected (its own filters), so
 * the dataset statistics can describe exactly what was released.
 */
export const STATS_STAGES = ["assisted_manual", "semi_automatic", "fully_automatic"] as const;
export const STATS_SOURCES = ["manual", "semi_auto", "auto"] as const;

export const statsFiltersSchema = z
  .object({
    projectId: z.uuid(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    stage: z.enum(STATS_STAGES).optional(),
    source: z.enum(STATS_SOURCES).optional(),
    modelVersionId: z.uuid().optional(),
    annotatorId: z.uuid().optional(),
    exportId: z.uuid().optional(),
  })
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "from must be before to", path: ["from"] });

export type StatsFilters = z.infer<typeof statsFiltersSchema>;
export type StatsFiltersInput = z.input<typeof statsFiltersSchema>;

/**
 * Which masks a view counts. Deleted masks never count. `work` (time, throughput, review outcomes) keeps
 * rejected masks: their time was spent and their rejection is the outcome. `dataset` keeps only what a
 * dataset holds (accepted and proposed masks), or what the chosen export selected.
 */
export type MaskPopulation = "work" | "dataset";

/**
 * A resolved scope: the SQL condition over `m` ("MaskStat", see MASKS_OF_PROJECT) that selects the masks, built
 * once per request (an export selection needs its parameters read first).
 */
export interface StatsScope {
  filters: StatsFilters;
  where: (population: MaskPopulation) => Prisma.Sql;
}

/** Reads an export selection's filters; NOT_FOUND when the export is not the project's. */
async function exportSelection(
  db: PrismaClient,
  projectId: string,
  exportId: string,
): Promise<ExportFilters> {
  const row = await db.export.findUnique({
    where: { id: exportId },
    select: { projectId: true, job: { select: { params: true } } },
  });
  if (!row || row.projectId !== projectId) throw new RuleViolation("NOT_FOUND", "export not found");
  return exportParamsSchema.parse(row.job?.params ?? {}).filters;
}

/** The export writer's mask filter (exportMaskWhere), written as SQL over `m`. */
function exportConditions(selection: ExportFilters): Prisma.Sql[] {
  const preset: readonly string[] = EXPORT_SOURCE_PRESETS[selection.sourcePreset];
  const sources = (selection.sources ?? STATS_SOURCES).filter((s) => preset.includes(s));
  const conditions = [
    Prisma.sql`m.status::text IN (${Prisma.join(selection.statuses)})`,
    sources.length ? Prisma.sql`m.source::text IN (${Prisma.join(sources)})` : Prisma.sql`false`,
  ];
  if (selection.stages) conditions.push(Prisma.sql`m.stage::text IN (${Prisma.join(selection.stages)})`);
  if (selection.reviewDecisions) {
    conditions.push(Prisma.sql`m."reviewDecision"::text IN (${Prisma.join(selection.reviewDecisions)})`);
  } else if (selection.reviewedOnly) {
    conditions.push(Prisma.sql`m."reviewDecision" IS NOT NULL`);
  }
  if (selection.createdFrom) conditions.push(Prisma.sql`m."createdAt" >= ${selection.createdFrom}`);
  if (selection.createdTo) conditions.push(Prisma.sql`m."createdAt" <= ${selection.createdTo}`);
  if (selection.label) conditions.push(Prisma.sql`m.label = ${selection.label}`);
  return conditions;
}

function filterConditions(f: StatsFilters): Prisma.Sql[] {
  const conditions = [Prisma.sql`m."projectId" = ${f.projectId}::uuid`];
  if (f.from) conditions.push(Prisma.sql`m."createdAt" >= ${f.from}`);
  if (f.to) conditions.push(Prisma.sql`m."createdAt" < ${f.to}`);
  // The parameter cast to the enum (zod has checked it is one), not the column to text: the planner then
  // knows from the column's statistics how many masks a stage or source has, and joins accordingly.
  if (f.stage) conditions.push(Prisma.sql`m.stage = ${f.stage}::"Stage"`);
  if (f.source) conditions.push(Prisma.sql`m.source = ${f.source}::"MaskSource"`);
  if (f.modelVersionId) conditions.push(Prisma.sql`m."modelVersionId" = ${f.modelVersionId}::uuid`);
  if (f.annotatorId) conditions.push(Prisma.sql`m."authorId" = ${f.annotatorId}::uuid`);
  return conditions;
}

/** Validates the filters and resolves an export selection; BAD_REQUEST for bad filters. */
export async function statsScope(db: PrismaClient, input: StatsFiltersInput): Promise<StatsScope> {
  const parsed = statsFiltersSchema.safeParse(input);
  if (!parsed.success) {
    throw new RuleViolation("BAD_REQUEST", `bad filters: ${z.prettifyError(parsed.error)}`);
  }
  const filters = parsed.data;
  const base = filterConditions(filters);
  const selection = filters.exportId ? await exportSelection(db, filters.projectId, filters.exportId) : null;
  return {
    filters,
    where(population) {
      const conditions = [...base];
      if (selection) conditions.push(...exportConditions(selection));
      else if (population === "dataset") conditions.push(Prisma.sql`m.status IN ('accepted', 'proposed')`);
      else conditions.push(Prisma.sql`m.status <> 'deleted'`);
      return Prisma.join(conditions, " AND ");
    },
  };
}

/**
 * What every statistics query reads: MaskStat, one narrow row per mask kept by triggers from Mask, Image
 * and MaskTiming (see schema.prisma), aliased `m` so the conditions above apply.
 */
export const MASKS_OF_PROJECT = Prisma.sql`"MaskStat" m`;

/** Resolves the filters, then runs one statistics view under them (what the API calls). */
export async function statsFor<T>(
  db: PrismaClient,
  input: StatsFiltersInput,
  view: (db: PrismaClient, scope: StatsScope) => Promise<T>,
): Promise<T> {
  return view(db, await statsScope(db, input));
}

/** The most one statistics query may take before the database stops it. */
const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Runs one statistics query with room to sort in memory: percentiles and per-image groups sort up to a
 * million values, which the server's default work_mem (4 MB) would spill to disk. SET LOCAL keeps the
 * settings to this one transaction, and a statement timeout bounds what one dashboard view may cost. The
 * transaction's own timeout is above the statement's, so a slow query ends with the database's error,
 * not with Prisma's 5-second default for transactions.
 */
export async function statsRows<T>(db: PrismaClient, query: Prisma.Sql): Promise<T> {
  return db.$transaction(
    async (tx) => {
      // One round trip: set_config(..., true) is SET LOCAL. A statistics query is one scan and a hash
      // aggregate: compiling it (JIT) costs more (~150 ms) than it saves.
      await tx.$queryRaw`SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),
        set_config('statement_timeout', ${String(STATEMENT_TIMEOUT_MS)}, true)`;
      return tx.$queryRaw<T>(query);
    },
    { timeout: STATEMENT_TIMEOUT_MS + 5_000, maxWait: 10_000 },
  );
}
