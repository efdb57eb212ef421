import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { MASKS_OF_PROJECT, type StatsScope, statsRows } from "./filters";

/**
 * Dataset statistics in the form of the SA-1B paper (its figures 5-7): how many masks images have, how
 * large masks are relative to their image, where their centres fall in the normalised image, and what
 * stage and source they come from. Over the masks a dataset holds (accepted and proposed), or over an
 * export's selection.
 *
 * - Relative size is sqrt(mask area / image area), as in the paper.
 * - A mask's centre is its bounding box centre (bbox is [x, y, w, h] in image pixels), divided by the
 *   image's width and height, so it lies in [0, 1] x [0, 1].
 */

/** The paper's bins of masks per image: 1-10, 11-50, 51-100, 101-200, over 200. */
export const MASKS_PER_IMAGE_BINS: readonly { from: number; to: number | null }[] = [
  { from: 1, to: 10 },
  { from: 11, to: 50 },
  { from: 51, to: 100 },
  { from: 101, to: 200 },
  { from: 201, to: null },
];
/** Relative-size histogram: 20 bins of 0.05 over [0, 1]. */
export const SIZE_BINS = 20;
/** Centre heatmap: a GRID x GRID grid over the normalised image. */
export const CENTRE_GRID = 10;

/**
 * The bin expressions, with their constants written into the SQL: migration 20261201170000 keeps
 * statistics on exactly these expressions (CREATE STATISTICS), so the planner knows they take a few dozen
 * values and counts them in a small hash table, in parallel, instead of sizing it for a group per mask.
 * Change both together.
 */
const RELATIVE_SIZE = Prisma.sql`sqrt(m.area::float8 / (m."imageWidth"::float8 * m."imageHeight"))`;
const SIZE_BIN = Prisma.sql`least(floor(${RELATIVE_SIZE} * ${Prisma.raw(String(SIZE_BINS))}), ${Prisma.raw(String(SIZE_BINS - 1))})::int`;
const cell = (column: Prisma.Sql) =>
  Prisma.sql`greatest(least(floor(${column} * ${Prisma.raw(String(CENTRE_GRID))}), ${Prisma.raw(String(CENTRE_GRID - 1))}), 0)::int`;
const CENTRE_ROW = cell(Prisma.sql`m."centreY"`);
const CENTRE_COL = cell(Prisma.sql`m."centreX"`);

export interface MasksPerImageDistribution {
  images: number;
  masks: number;
  mean: number | null;
  median: number | null;
  bins: { from: number; to: number | null; images: number }[];
}

/** Histogram and mean only: a median would sort every mask, the histogram is one hash aggregate. */
export interface SizeHistogram {
  masks: number;
  mean: number | null;
  bins: { from: number; to: number; count: number }[];
}

export interface CentreHeatmap {
  masks: number;
  grid: number;
  /** cells[row][column]: masks whose centre is in that cell; row 0 is the top of the image. */
  cells: number[][];
}

export interface StageSourceSplit {
  stage: string;
  source: string;
  masks: number;
  share: number;
}

export interface DatasetStats {
  masksPerImage: MasksPerImageDistribution;
  relativeSize: SizeHistogram;
  centres: CentreHeatmap;
  split: StageSourceSplit[];
}

export async function masksPerImageDistribution(
  db: PrismaClient,
  scope: StatsScope,
): Promise<MasksPerImageDistribution> {
  const [row] = await statsRows<
    { images: number; masks: number; mean: number | null; median: number | null; counts: number[] }[]
  >(
    db,
    Prisma.sql`
    WITH per_image AS (
      SELECT count(*) AS n FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("dataset")} GROUP BY m."imageId"
    )
    SELECT count(*)::int AS images, coalesce(sum(n), 0)::int AS masks, avg(n)::float8 AS mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY n)::float8 AS median,
      ARRAY[
        count(*) FILTER (WHERE n <= 10), count(*) FILTER (WHERE n BETWEEN 11 AND 50),
        count(*) FILTER (WHERE n BETWEEN 51 AND 100), count(*) FILTER (WHERE n BETWEEN 101 AND 200),
        count(*) FILTER (WHERE n > 200)
      ]::int[] AS counts
    FROM per_image`,
  );
  const r = row!;
  return {
    images: r.images,
    masks: r.masks,
    mean: r.mean,
    median: r.median,
    bins: MASKS_PER_IMAGE_BINS.map((bin, k) => ({ ...bin, images: r.counts[k] ?? 0 })),
  };
}

export async function relativeSizeHistogram(db: PrismaClient, scope: StatsScope): Promise<SizeHistogram> {
  const rows = await statsRows<{ bin: number; count: number; sizeSum: number }[]>(
    db,
    Prisma.sql`
    SELECT ${SIZE_BIN} AS bin, count(*)::int AS count, sum(${RELATIVE_SIZE})::float8 AS "sizeSum"
    FROM ${MASKS_OF_PROJECT}
    WHERE ${scope.where("dataset")} AND m."imageWidth" > 0 AND m."imageHeight" > 0
    GROUP BY 1`,
  );
  const bins = Array.from({ length: SIZE_BINS }, (_, b) => ({
    from: b / SIZE_BINS,
    to: (b + 1) / SIZE_BINS,
    count: 0,
  }));
  let masks = 0;
  let sum = 0;
  for (const row of rows) {
    bins[row.bin]!.count += row.count;
    masks += row.count;
    sum += row.sizeSum;
  }
  return { masks, mean: masks ? sum / masks : null, bins };
}

export async function centreHeatmap(db: PrismaClient, scope: StatsScope): Promise<CentreHeatmap> {
  const rows = await statsRows<{ row: number; col: number; count: number }[]>(
    db,
    Prisma.sql`
    SELECT ${CENTRE_ROW} AS row, ${CENTRE_COL} AS col, count(*)::int AS count
    FROM ${MASKS_OF_PROJECT}
    WHERE ${scope.where("dataset")} AND m."centreX" IS NOT NULL AND m."centreY" IS NOT NULL
    GROUP BY 1, 2`,
  );
  const cells = Array.from({ length: CENTRE_GRID }, () => Array<number>(CENTRE_GRID).fill(0));
  let masks = 0;
  for (const r of rows) {
    const line = cells[r.row]!;
    line[r.col] = (line[r.col] ?? 0) + r.count;
    masks += r.count;
  }
  return { masks, grid: CENTRE_GRID, cells };
}

export async function stageSourceSplit(db: PrismaClient, scope: StatsScope): Promise<StageSourceSplit[]> {
  return statsRows<StageSourceSplit[]>(
    db,
    Prisma.sql`
    SELECT m.stage::text AS stage, m.source::text AS source, count(*)::int AS masks,
      (count(*)::float8 / sum(count(*)) OVER ())::float8 AS share
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("dataset")}
    GROUP BY m.stage, m.source ORDER BY m.stage, m.source`,
  );
}

export async function datasetStats(db: PrismaClient, scope: StatsScope): Promise<DatasetStats> {
  const [masksPerImage, relativeSize, centres, split] = await Promise.all([
    masksPerImageDistribution(db, scope),
    relativeSizeHistogram(db, scope),
    centreHeatmap(db, scope),
    stageSourceSplit(db, scope),
  ]);
  return { masksPerImage, relativeSize, centres, split };
}
