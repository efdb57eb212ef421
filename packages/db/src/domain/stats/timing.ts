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

/** Masks with a timing (automatic masks have none). */
const TIMED = Prisma.sql`m."activeMs" IS NOT NULL`;

/**
 * Width of the first pass's bins: 2^7 = 128 ms. Written into the SQL as a constant: migration 20261201170000
 * keeps statistics on `"activeMs" >> 7`, so the planner sizes the pass for a few hundred bins per group.
 */
const BIN_SHIFT = 7;
const BIN_MS = 2 ** BIN_SHIFT;
/** Stands for "no model version" in a group key (a key is never null, so it can be joined on). */
const NO_VERSION = Prisma.sql`'00000000-0000-0000-0000-000000000000'::uuid`;

/**
 * Median and p90 of active time per group, exactly as `percentile_cont` gives them, without sorting every
 * timed mask (which is what made these charts slow: a million-value sort per query, spilled to disk).
 * `key` is a non-null SQL expression over `m` (the group); the result is a CTE `pct(k, masks, median, p90)`.
 *
 * 1. One pass over the masks in scope counts them per group and 128 ms bin of active time (a hash aggregate:
 *    a few thousand groups, no sort).
 * 2. percentile_cont(q) over n values is v[lo] + (v[hi] - v[lo]) * (pos - lo) with pos = q * (n - 1),
 *    lo = floor(pos), hi = ceil(pos) (0-based ranks in ascending order). Running sums of the bin counts say
 *    which bin holds rank r and how many values lie below it.
 * 3. Each needed value is read from its bin alone: the masks in scope whose active time lies in the bin, in
 *    order through MaskStat_timed_idx (projectId, activeMs), skipping the ranks below: a few dozen index
 *    entries per value.
 * The interpolation is the same float8 arithmetic as percentile_cont's, so the numbers are identical.
 */
function secondsPercentiles(where: Prisma.Sql, key: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
  bins AS (
    SELECT ${key} AS k, m."activeMs" >> ${Prisma.raw(String(BIN_SHIFT))} AS b, count(*) AS c
    FROM ${MASKS_OF_PROJECT} WHERE ${where} AND ${TIMED} GROUP BY 1, 2
  ),
  cum AS (SELECT k, b, c, sum(c) OVER (PARTITION BY k ORDER BY b) - c AS below FROM bins),
  groups AS (SELECT k, sum(c)::bigint AS n FROM bins GROUP BY k),
  wanted AS (
    SELECT g.k, g.n, q.q, q.q * (g.n - 1)::float8 AS pos
    FROM groups g CROSS JOIN (VALUES (0.5::float8), (0.9::float8)) q(q)
  ),
  targets AS (
    SELECT DISTINCT c.k, r.r, c.b, r.r - c.below AS skip
    FROM wanted w CROSS JOIN LATERAL (VALUES (floor(w.pos)::bigint), (ceil(w.pos)::bigint)) r(r)
    JOIN cum c ON c.k = w.k AND r.r >= c.below AND r.r < c.below + c.c
  ),
  ranked AS (
    SELECT t.k, t.r, x.v FROM targets t CROSS JOIN LATERAL (
      SELECT m."activeMs" AS v FROM ${MASKS_OF_PROJECT}
      WHERE ${where} AND m."activeMs" >= t.b * ${BIN_MS} AND m."activeMs" < (t.b + 1) * ${BIN_MS}
        AND ${key} = t.k
      ORDER BY m."activeMs" OFFSET t.skip LIMIT 1
    ) x
  ),
  pct AS (
    SELECT w.k, w.n::int AS masks,
      (max((lo.v + (hi.v - lo.v) * (w.pos - floor(w.pos))) / 1000.0) FILTER (WHERE w.q = 0.5))::float8 AS median,
      (max((lo.v + (hi.v - lo.v) * (w.pos - floor(w.pos))) / 1000.0) FILTER (WHERE w.q = 0.9))::float8 AS p90
    FROM wanted w
      JOIN ranked lo ON lo.k = w.k AND lo.r = floor(w.pos)::bigint
      JOIN ranked hi ON hi.k = w.k AND hi.r = ceil(w.pos)::bigint
    GROUP BY w.k, w.n
  )`;
}

/** Median and p90 over every timed mask in scope. */
export async function secondsPerMask(db: PrismaClient, scope: StatsScope): Promise<SecondsPerMask> {
  const [row] = await statsRows<SecondsPerMask[]>(
    db,
    Prisma.sql`
    WITH ${secondsPercentiles(scope.where("work"), Prisma.sql`0`)}
    SELECT masks, median, p90 FROM pct`,
  );
  return row ?? { masks: 0, median: null, p90: null };
}

/** Median and p90 per week (weeks start on Monday, UTC), oldest first; weeks without masks are left out. */
export async function secondsPerMaskByWeek(db: PrismaClient, scope: StatsScope): Promise<WeeklySeconds[]> {
  return statsRows<WeeklySeconds[]>(
    db,
    Prisma.sql`
    WITH ${secondsPercentiles(scope.where("work"), Prisma.sql`date_trunc('week', m."createdAt")`)}
    SELECT k AS week, masks, median, p90 FROM pct ORDER BY k`,
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
      WITH ${secondsPercentiles(where, Prisma.sql`m."annotatorId"`)}
      SELECT p.k::text AS key, coalesce(u.name, 'unknown') AS label, p.masks, p.median, p.p90
      FROM pct p LEFT JOIN "User" u ON u.id = p.k ORDER BY masks DESC, label`,
    );
  }
  if (dimension === "stage") {
    return statsRows<GroupedSeconds[]>(
      db,
      Prisma.sql`
      WITH ${secondsPercentiles(where, Prisma.sql`m.stage`)}
      SELECT k::text AS key, k::text AS label, masks, median, p90 FROM pct ORDER BY masks DESC, label`,
    );
  }
  return statsRows<GroupedSeconds[]>(
    db,
    Prisma.sql`
    WITH ${secondsPercentiles(where, Prisma.sql`coalesce(m."modelVersionId", ${NO_VERSION})`)}
    SELECT nullif(p.k, ${NO_VERSION})::text AS key, coalesce(v.name, 'none') AS label, p.masks, p.median, p.p90
    FROM pct p LEFT JOIN "ModelVersion" v ON v.id = p.k ORDER BY masks DESC, label`,
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

/**
 * percentile_cont(q) of the values a histogram holds ([value, count] pairs): the same ranks and the same
 * float8 interpolation as the database's, so it is exact. Null when the histogram is empty.
 */
export function percentileOfCounts(histogram: [number, number][], q: number): number | null {
  const sorted = [...histogram].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = sorted.reduce((sum, [, n]) => sum + n, 0);
  if (!total) return null;
  const pos = q * (total - 1);
  const at = (rank: number) => {
    let below = 0;
    for (const [value, n] of sorted) {
      if (rank < below + n) return value;
      below += n;
    }
    return sorted.at(-1)![0];
  };
  const lo = at(Math.floor(pos));
  return lo + (at(Math.ceil(pos)) - lo) * (pos - Math.floor(pos));
}

const INTERACTIONS = ["clicks", "boxes", "brushStrokes", "undos"] as const;

/**
 * One pass: the totals (the empty grouping set) and a count per value of each interaction (counts are
 * small integers, so a few dozen groups), from which the medians are read exactly (percentileOfCounts)
 * instead of sorting every timed mask four times.
 */
export async function interactionsPerMask(db: PrismaClient, scope: StatsScope): Promise<InteractionsPerMask> {
  const rows = await statsRows<
    {
      set: number;
      clicks: number | null;
      boxes: number | null;
      brushStrokes: number | null;
      undos: number | null;
      n: number;
      clicks_mean: number | null;
      clicks_total: number;
      boxes_mean: number | null;
      boxes_total: number;
      brush_mean: number | null;
      brush_total: number;
      undos_mean: number | null;
      undos_total: number;
    }[]
  >(
    db,
    Prisma.sql`
    SELECT GROUPING(m.clicks, m.boxes, m."brushStrokes", m.undos)::int AS set,
      m.clicks, m.boxes, m."brushStrokes" AS "brushStrokes", m.undos, count(*)::int AS n,
      avg(m.clicks)::float8 AS clicks_mean, coalesce(sum(m.clicks), 0)::int AS clicks_total,
      avg(m.boxes)::float8 AS boxes_mean, coalesce(sum(m.boxes), 0)::int AS boxes_total,
      avg(m."brushStrokes")::float8 AS brush_mean, coalesce(sum(m."brushStrokes"), 0)::int AS brush_total,
      avg(m.undos)::float8 AS undos_mean, coalesce(sum(m.undos), 0)::int AS undos_total
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}
    GROUP BY GROUPING SETS ((), (m.clicks), (m.boxes), (m."brushStrokes"), (m.undos))`,
  );
  // GROUPING(...) has a bit set per column not grouped by: 15 for (), 7 for clicks alone, 11, 13, 14.
  const totals = rows.find((r) => r.set === 15);
  const median = (column: (typeof INTERACTIONS)[number], set: number) =>
    percentileOfCounts(
      rows.flatMap((r) => {
        const value = r[column];
        return r.set === set && value !== null ? [[value, r.n] as [number, number]] : [];
      }),
      0.5,
    );
  return {
    masks: totals?.n ?? 0,
    clicks: {
      mean: totals?.clicks_mean ?? null,
      median: median("clicks", 7),
      total: totals?.clicks_total ?? 0,
    },
    boxes: { mean: totals?.boxes_mean ?? null, median: median("boxes", 11), total: totals?.boxes_total ?? 0 },
    brushStrokes: {
      mean: totals?.brush_mean ?? null,
      median: median("brushStrokes", 13),
      total: totals?.brush_total ?? 0,
    },
    undos: { mean: totals?.undos_mean ?? null, median: median("undos", 14), total: totals?.undos_total ?? 0 },
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
