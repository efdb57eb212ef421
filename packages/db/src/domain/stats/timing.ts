import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { MASKS_OF_PROJECT, type StatsScope, statsRows } from "./filters";

/**
 * Seconds per mask: the active time recorded with each manual mask (MaskTiming.activeMs, idle gaps over
 * 30 s removed), as median and p90. Percentiles are `percentile_cont`: linear interpolation between the
 * two nearest ordered values, the same definition as numpy's default, so a test can compute them by hand.
 * Only masks with a timing row count (automatic masks have none).
 */
export interface SecondsPerMask {
  masks: number;
  median: number | null;
  p90: number | null;
}

export interface WeeklySeconds extends SecondsPerMask {
  /** Monday 00:00 UTC of the week the masks were made in. */
  week: Date;
}

export interface GroupedSeconds extends SecondsPerMask {
  key: string | null;
  label: string;
}

export type TimingDimension = "annotator" | "stage" | "modelVersion";

const SECONDS = Prisma.sql`
  count(*)::int AS masks,
  (percentile_cont(0.5) WITHIN GROUP (ORDER BY m."activeMs") / 1000.0)::float8 AS median,
  (percentile_cont(0.9) WITHIN GROUP (ORDER BY m."activeMs") / 1000.0)::float8 AS p90`;

/** Masks with a timing (automatic masks have none). */
const TIMED = Prisma.sql`m."activeMs" IS NOT NULL`;

/** Median and p90 over every timed mask in scope. */
export async function secondsPerMask(db: PrismaClient, scope: StatsScope): Promise<SecondsPerMask> {
  const [row] = await statsRows<SecondsPerMask[]>(
    db,
    Prisma.sql`
    SELECT ${SECONDS} FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}`,
  );
  return row ?? { masks: 0, median: null, p90: null };
}

/** Median and p90 per week (weeks start on Monday, UTC), oldest first; weeks without masks are left out. */
export async function secondsPerMaskByWeek(db: PrismaClient, scope: StatsScope): Promise<WeeklySeconds[]> {
  return statsRows<WeeklySeconds[]>(
    db,
    Prisma.sql`
    SELECT date_trunc('week', m."createdAt") AS week, ${SECONDS}
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}
    GROUP BY 1 ORDER BY 1`,
  );
}

/** Median and p90 by annotator, stage or model version, most masks first. */
export async function secondsPerMaskBy(
  db: PrismaClient,
  scope: StatsScope,
  dimension: TimingDimension,
): Promise<GroupedSeconds[]> {
  const where = scope.where("work");
  if (dimension === "annotator") {
    return statsRows<GroupedSeconds[]>(
      db,
      Prisma.sql`
      SELECT m."annotatorId"::text AS key, coalesce(min(u.name), 'unknown') AS label, ${SECONDS}
      FROM ${MASKS_OF_PROJECT} LEFT JOIN "User" u ON u.id = m."annotatorId"
      WHERE ${where} AND ${TIMED} GROUP BY m."annotatorId" ORDER BY masks DESC, label`,
    );
  }
  if (dimension === "stage") {
    return statsRows<GroupedSeconds[]>(
      db,
      Prisma.sql`
      SELECT m.stage::text AS key, m.stage::text AS label, ${SECONDS}
      FROM ${MASKS_OF_PROJECT} WHERE ${where} AND ${TIMED} GROUP BY m.stage ORDER BY masks DESC, label`,
    );
  }
  return statsRows<GroupedSeconds[]>(
    db,
    Prisma.sql`
    SELECT m."modelVersionId"::text AS key, coalesce(min(v.name), 'none') AS label, ${SECONDS}
    FROM ${MASKS_OF_PROJECT} LEFT JOIN "ModelVersion" v ON v.id = m."modelVersionId"
    WHERE ${where} AND ${TIMED} GROUP BY m."modelVersionId" ORDER BY masks DESC, label`,
  );
}

/** What it took to make a mask: clicks, boxes, brush strokes and undos, mean and median per timed mask. */
export interface InteractionsPerMask {
  masks: number;
  clicks: { mean: number | null; median: number | null; total: number };
  boxes: { mean: number | null; median: number | null; total: number };
  brushStrokes: { mean: number | null; median: number | null; total: number };
  undos: { mean: number | null; median: number | null; total: number };
}

export async function interactionsPerMask(db: PrismaClient, scope: StatsScope): Promise<InteractionsPerMask> {
  const [row] = await statsRows<
    {
      masks: number;
      clicks_mean: number | null;
      clicks_median: number | null;
      clicks_total: number;
      boxes_mean: number | null;
      boxes_median: number | null;
      boxes_total: number;
      brush_mean: number | null;
      brush_median: number | null;
      brush_total: number;
      undos_mean: number | null;
      undos_median: number | null;
      undos_total: number;
    }[]
  >(
    db,
    Prisma.sql`
    SELECT count(*)::int AS masks,
      avg(m.clicks)::float8 AS clicks_mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY m.clicks)::float8 AS clicks_median,
      coalesce(sum(m.clicks), 0)::int AS clicks_total,
      avg(m.boxes)::float8 AS boxes_mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY m.boxes)::float8 AS boxes_median,
      coalesce(sum(m.boxes), 0)::int AS boxes_total,
      avg(m."brushStrokes")::float8 AS brush_mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY m."brushStrokes")::float8 AS brush_median,
      coalesce(sum(m."brushStrokes"), 0)::int AS brush_total,
      avg(m.undos)::float8 AS undos_mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY m.undos)::float8 AS undos_median,
      coalesce(sum(m.undos), 0)::int AS undos_total
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}`,
  );
  const r = row!;
  return {
    masks: r.masks,
    clicks: { mean: r.clicks_mean, median: r.clicks_median, total: r.clicks_total },
    boxes: { mean: r.boxes_mean, median: r.boxes_median, total: r.boxes_total },
    brushStrokes: { mean: r.brush_mean, median: r.brush_median, total: r.brush_total },
    undos: { mean: r.undos_mean, median: r.undos_median, total: r.undos_total },
  };
}

/** Everything the timing charts show, in one call (its queries run side by side on the pool). */
export interface TimingStats {
  overall: SecondsPerMask;
  byWeek: WeeklySeconds[];
  byAnnotator: GroupedSeconds[];
  byStage: GroupedSeconds[];
  byModelVersion: GroupedSeconds[];
  interactions: InteractionsPerMask;
}

export async function timingStats(db: PrismaClient, scope: StatsScope): Promise<TimingStats> {
  const [overall, byWeek, byAnnotator, byStage, byModelVersion, interactions] = await Promise.all([
    secondsPerMask(db, scope),
    secondsPerMaskByWeek(db, scope),
    secondsPerMaskBy(db, scope, "annotator"),
    secondsPerMaskBy(db, scope, "stage"),
    secondsPerMaskBy(db, scope, "modelVersion"),
    interactionsPerMask(db, scope),
  ]);
  return { overall, byWeek, byAnnotator, byStage, byModelVersion, interactions };
}
