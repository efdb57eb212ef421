import { z } from "zod";
import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { MASKS_OF_PROJECT, type StatsScope, statsRows } from "./filters";

/**
 * The per-mask table behind the charts, for CSV download. Each view lists the rows its charts count:
 * `timing` the timed masks, `throughput` and `review` every mask of the work (deleted ones aside), and
 * `dataset` the masks a dataset (or the chosen export) holds. Columns are the same for every view.
 * Rows are read in keyset batches by mask id, so a table of a million masks streams in constant memory.
 */
export const STATS_TABLE_VIEWS = ["timing", "throughput", "review", "dataset"] as const;
export const statsTableViewSchema = z.enum(STATS_TABLE_VIEWS);
export type StatsTableView = z.infer<typeof statsTableViewSchema>;

export const STATS_TABLE_COLUMNS = [
  "maskId",
  "imageId",
  "filename",
  "createdAt",
  "stage",
  "source",
  "status",
  "modelVersion",
  "annotator",
  "activeSeconds",
  "clicks",
  "boxes",
  "brushStrokes",
  "undos",
  "reviewDecision",
  "correctionIou",
  "area",
  "imageWidth",
  "imageHeight",
  "relativeSize",
  "centreX",
  "centreY",
] as const;

export type StatsTableRow = Record<(typeof STATS_TABLE_COLUMNS)[number], string | number | Date | null>;

const BATCH = 5000;

/** Yields the view's rows in batches, ordered by mask id. */
export async function* statsTableRows(
  db: PrismaClient,
  scope: StatsScope,
  view: StatsTableView,
  batchSize = BATCH,
): AsyncGenerator<StatsTableRow[]> {
  const where = scope.where(view === "dataset" ? "dataset" : "work");
  const timedOnly = view === "timing" ? Prisma.sql`AND m."activeMs" IS NOT NULL` : Prisma.empty;
  let after: string | null = null;
  for (;;) {
    const keyset: Prisma.Sql = after ? Prisma.sql`AND m."maskId" > ${after}::uuid` : Prisma.empty;
    const rows: (StatsTableRow & { maskId: string })[] = await statsRows(
      db,
      Prisma.sql`
      SELECT m."maskId"::text AS "maskId", m."imageId"::text AS "imageId", i.filename, m."createdAt",
        m.stage::text AS stage, m.source::text AS source, m.status::text AS status,
        v.name AS "modelVersion", u.name AS annotator,
        (m."activeMs" / 1000.0)::float8 AS "activeSeconds", m.clicks, m.boxes, m."brushStrokes", m.undos,
        m."reviewDecision"::text AS "reviewDecision",
        (SELECT r.iou FROM "MaskReview" r WHERE r."maskId" = m."maskId" AND r.decision = 'corrected'
          ORDER BY r."createdAt" DESC LIMIT 1) AS "correctionIou",
        m.area, m."imageWidth", m."imageHeight",
        CASE WHEN m."imageWidth" > 0 AND m."imageHeight" > 0
          THEN sqrt(m.area::float8 / (m."imageWidth"::float8 * m."imageHeight")) END AS "relativeSize",
        m."centreX", m."centreY"
      FROM ${MASKS_OF_PROJECT}
        JOIN "Image" i ON i.id = m."imageId"
        LEFT JOIN "ModelVersion" v ON v.id = m."modelVersionId"
        LEFT JOIN "User" u ON u.id = m."authorId"
      WHERE ${where} ${timedOnly} ${keyset}
      ORDER BY m."projectId", m."maskId" LIMIT ${batchSize}`,
    );
    if (!rows.length) return;
    yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]!.maskId;
  }
}

/** One CSV field: quoted when it holds a separator, quote or line break; dates as ISO 8601. */
function csvField(value: string | number | Date | null): string {
  if (value === null) return "";
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  // A leading =, +, - or @ would make a spreadsheet evaluate the cell (CSV injection): prefix a quote.
  const safe = typeof value === "string" && /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const statsCsvHeader = () => `${STATS_TABLE_COLUMNS.join(",")}\r\n`;

export function statsCsvLines(rows: StatsTableRow[]): string {
  return rows.map((row) => `${STATS_TABLE_COLUMNS.map((c) => csvField(row[c])).join(",")}\r\n`).join("");
}
