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
function secondsPercentiles(where: Prisma.Sql, key: Prisma.Sql, total?: Prisma.Sql): Prisma.Sql {
  // With `total` (a key value no group has), the bins summed over the groups form one more group under
  // that key: the overall figures from the same pass.
  const totals = total
    ? Prisma.sql`UNION ALL SELECT ${total}, b, sum(c)::bigint FROM scanned GROUP BY b`
    : Prisma.empty;
  const sameGroup = total ? Prisma.sql`(t.k = ${total} OR ${key} = t.k)` : Prisma.sql`${key} = t.k`;
  return Prisma.sql`
  scanned AS (
    SELECT ${key} AS k, m."activeMs" >> ${Prisma.raw(String(BIN_SHIFT))} AS b, count(*) AS c
    FROM ${MASKS_OF_PROJECT} WHERE ${where} AND ${TIMED} GROUP BY 1, 2
  ),
  bins AS (SELECT k, b, c FROM scanned ${totals}),
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
        AND ${sameGroup}
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

/** No week is infinite: the key of the overall figures when they come with the weekly ones. */
const ALL_WEEKS = Prisma.sql`'infinity'::timestamp`;

/** secondsPerMask and secondsPerMaskByWeek from one pass over the masks (what the views show together). */
export async function secondsPerMaskWithWeeks(
  db: PrismaClient,
  scope: StatsScope,
): Promise<{ overall: SecondsPerMask; byWeek: WeeklySeconds[] }> {
  const rows = await statsRows<(WeeklySeconds & { overall: boolean })[]>(
    db,
    Prisma.sql`
    WITH ${secondsPercentiles(scope.where("work"), Prisma.sql`date_trunc('week', m."createdAt")`, ALL_WEEKS)}
    SELECT CASE WHEN k = ${ALL_WEEKS} THEN NULL ELSE k END AS week, k = ${ALL_WEEKS} AS overall,
      masks, median, p90
    FROM pct ORDER BY k`,
  );
  const total = rows.find((r) => r.overall);
  return {
    overall: total
      ? { masks: total.masks, median: total.median, p90: total.p90 }
      : { masks: 0, median: null, p90: null },
    byWeek: rows
      .filter((r) => !r.overall)
      .map(({ week, masks, median, p90 }) => ({ week, masks, median, p90 })),
  };
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
type Interaction = (typeof INTERACTIONS)[number];

/**
 * One pass: timed masks counted per combination of clicks, boxes, brush strokes and undos (small integers:
 * a few dozen combinations, one small hash aggregate that runs in parallel). Each column's total, mean and
 * median (exact, percentileOfCounts) come from those counts instead of four sorts of every timed mask.
 */
export async function interactionsPerMask(db: PrismaClient, scope: StatsScope): Promise<InteractionsPerMask> {
  const rows = await statsRows<(Record<Interaction, number | null> & { n: number })[]>(
    db,
    Prisma.sql`
    SELECT m.clicks, m.boxes, m."brushStrokes" AS "brushStrokes", m.undos, count(*)::int AS n
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}
    GROUP BY 1, 2, 3, 4`,
  );
  const of = (column: Interaction) => {
    const counts = new Map<number, number>();
    for (const row of rows) {
      const value = row[column];
      if (value !== null) counts.set(value, (counts.get(value) ?? 0) + row.n);
    }
    const histogram = [...counts];
    const n = histogram.reduce((sum, [, c]) => sum + c, 0);
    const total = histogram.reduce((sum, [v, c]) => sum + v * c, 0);
    return { mean: n ? total / n : null, median: percentileOfCounts(histogram, 0.5), total };
  };
  return {
    masks: rows.reduce((sum, r) => sum + r.n, 0),
    clicks: of("clicks"),
    boxes: of("boxes"),
    brushStrokes: of("brushStrokes"),
    undos: of("undos"),
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
  const [{ overall, byWeek }, byAnnotator, byStage, byModelVersion, interactions] = await Promise.all([
    secondsPerMaskWithWeeks(db, scope),
    secondsPerMaskBy(db, scope, "annotator"),
    secondsPerMaskBy(db, scope, "stage"),
    secondsPerMaskBy(db, scope, "modelVersion"),
    interactionsPerMask(db, scope),
  ]);
  return { overall, byWeek, byAnnotator, byStage, byModelVersion, interactions };
}
