import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { MASKS_OF_PROJECT, type StatsScope, statsRows } from "./filters";

/**
 * Throughput. Masks per hour counts active time only (MaskTiming.activeMs: idle gaps removed), so it
 * measures how fast people work while working, not how many hours they were signed in. Images per day
 * counts distinct images that received at least one mask that day (UTC).
 */
export interface MasksPerHour {
  key: string | null;
  label: string;
  masks: number;
  activeHours: number;
  masksPerHour: number | null;
}

export interface ImagesPerDay {
  day: Date;
  images: number;
  masks: number;
}

/**
 * Masks per image, the SA-1B paper's measure of how much an image gets annotated: images are placed in
 * the week of their first mask in scope, and every mask in scope on them counts.
 */
export interface WeeklyMasksPerImage {
  week: Date;
  images: number;
  masks: number;
  mean: number;
  median: number;
}

/** Masks of one stage per image, over images with at least one mask of that stage. */
export interface StageMasksPerImage {
  stage: string;
  images: number;
  masks: number;
  mean: number;
  median: number;
}

export interface ThroughputStats {
  overall: MasksPerHour;
  byAnnotator: MasksPerHour[];
  byWeek: (MasksPerHour & { week: Date })[];
  imagesPerDay: ImagesPerDay[];
  masksPerImageByWeek: WeeklyMasksPerImage[];
  masksPerImageByStage: StageMasksPerImage[];
}

const RATE = Prisma.sql`
  count(*)::int AS masks,
  (coalesce(sum(m."activeMs"), 0) / 3600000.0)::float8 AS "activeHours",
  (count(*) / nullif(sum(m."activeMs") / 3600000.0, 0))::float8 AS "masksPerHour"`;

/** Masks with a timing (automatic masks have none). */
const TIMED = Prisma.sql`m."activeMs" IS NOT NULL`;

export async function masksPerHour(db: PrismaClient, scope: StatsScope): Promise<MasksPerHour> {
  const [row] = await statsRows<MasksPerHour[]>(
    db,
    Prisma.sql`
    SELECT NULL::text AS key, 'all' AS label, ${RATE} FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED}`,
  );
  return row!;
}

export async function masksPerHourByAnnotator(db: PrismaClient, scope: StatsScope): Promise<MasksPerHour[]> {
  return statsRows<MasksPerHour[]>(
    db,
    Prisma.sql`
    SELECT m."annotatorId"::text AS key, coalesce(min(u.name), 'unknown') AS label, ${RATE}
    FROM ${MASKS_OF_PROJECT} LEFT JOIN "User" u ON u.id = m."annotatorId"
    WHERE ${scope.where("work")} AND ${TIMED} GROUP BY m."annotatorId" ORDER BY masks DESC, label`,
  );
}

export async function masksPerHourByWeek(
  db: PrismaClient,
  scope: StatsScope,
): Promise<(MasksPerHour & { week: Date })[]> {
  return statsRows<(MasksPerHour & { week: Date })[]>(
    db,
    Prisma.sql`
    SELECT date_trunc('week', m."createdAt") AS week, NULL::text AS key,
      to_char(date_trunc('week', m."createdAt"), 'YYYY-MM-DD') AS label, ${RATE}
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} AND ${TIMED} GROUP BY 1 ORDER BY 1`,
  );
}

export async function imagesPerDay(db: PrismaClient, scope: StatsScope): Promise<ImagesPerDay[]> {
  return statsRows<ImagesPerDay[]>(
    db,
    Prisma.sql`
    WITH per_image_day AS (
      -- Grouped by (day, image) first: a hash aggregate, where count(DISTINCT) would sort every row.
      SELECT date_trunc('day', m."createdAt") AS day, count(*) AS masks
      FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} GROUP BY 1, m."imageId"
    )
    SELECT day, count(*)::int AS images, sum(masks)::int AS masks FROM per_image_day GROUP BY day ORDER BY day`,
  );
}

export async function masksPerImageByWeek(
  db: PrismaClient,
  scope: StatsScope,
): Promise<WeeklyMasksPerImage[]> {
  return statsRows<WeeklyMasksPerImage[]>(
    db,
    Prisma.sql`
    WITH per_image AS (
      SELECT m."imageId", min(m."createdAt") AS first, count(*) AS masks
      FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("dataset")} GROUP BY m."imageId"
    )
    SELECT date_trunc('week', first) AS week, count(*)::int AS images, sum(masks)::int AS masks,
      avg(masks)::float8 AS mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY masks)::float8 AS median
    FROM per_image GROUP BY 1 ORDER BY 1`,
  );
}

export async function masksPerImageByStage(
  db: PrismaClient,
  scope: StatsScope,
): Promise<StageMasksPerImage[]> {
  return statsRows<StageMasksPerImage[]>(
    db,
    Prisma.sql`
    WITH per_image AS (
      SELECT m.stage, m."imageId", count(*) AS masks
      FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("dataset")} GROUP BY m.stage, m."imageId"
    )
    SELECT stage::text AS stage, count(*)::int AS images, sum(masks)::int AS masks,
      avg(masks)::float8 AS mean,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY masks)::float8 AS median
    FROM per_image GROUP BY per_image.stage ORDER BY per_image.stage`,
  );
}

export async function throughputStats(db: PrismaClient, scope: StatsScope): Promise<ThroughputStats> {
  const [overall, byAnnotator, byWeek, perDay, masksPerImageWeekly, masksPerImageStage] = await Promise.all([
    masksPerHour(db, scope),
    masksPerHourByAnnotator(db, scope),
    masksPerHourByWeek(db, scope),
    imagesPerDay(db, scope),
    masksPerImageByWeek(db, scope),
    masksPerImageByStage(db, scope),
  ]);
  return {
    overall,
    byAnnotator,
    byWeek,
    imagesPerDay: perDay,
    masksPerImageByWeek: masksPerImageWeekly,
    masksPerImageByStage: masksPerImageStage,
  };
}
