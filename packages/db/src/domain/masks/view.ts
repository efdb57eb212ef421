import type { CocoRle } from "@sas/sa1b";
import { z } from "zod";
import {
  type MaskSource,
  type MaskStatus,
  Prisma,
  type PrismaClient,
  type ReviewDecision,
  type Stage,
} from "../../generated/prisma/client";
import type { SamBbox } from "./geometry";

/** A mask as the annotation page and every mask write answer with it. */
export interface MaskView {
  id: string;
  imageId: string;
  rle: CocoRle;
  bbox: SamBbox;
  area: number;
  predictedIou: number | null;
  stabilityScore: number | null;
  label: string;
  source: MaskSource;
  /** The data-engine stage that made it (assisted manual, semi- or fully automatic). */
  stage: Stage;
  /** The automatic pass that made it; null for masks made by hand. */
  jobId: string | null;
  status: MaskStatus;
  version: number;
  authorId: string | null;
  authorName: string | null;
  activeMs: number | null;
  /** The latest review's decision; null until reviewed (and again after a rejected mask is fixed). */
  reviewDecision: ReviewDecision | null;
  /** The latest review's reason ("" when none was given) and reviewer; null when never reviewed. */
  reviewReason: string | null;
  reviewerName: string | null;
  createdAt: Date;
}

/** Shape only: stored RLEs were validated on the way in, and re-decoding every one on read is waste. */
export const storedRleSchema = z.object({ size: z.tuple([z.number(), z.number()]), counts: z.string() });
const storedBbox = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** A MaskView as the query below returns it: the columns, the RLE and bbox still unchecked. */
interface MaskViewRow extends Omit<MaskView, "rle" | "bbox"> {
  rle: unknown;
  bbox: unknown;
  modelVersionName: string | null;
}

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Mask views with their author's name, timing, latest review (its reason and reviewer) and the name of
 * the model version that made them, in one statement. Prisma's relation selects cost a query per
 * relation (five for one mask view), and these views answer every mask save and every image opened.
 */
async function maskViewRows(db: Db, where: Prisma.Sql): Promise<MaskViewRow[]> {
  return db.$queryRaw<MaskViewRow[]>`
    SELECT m.id::text AS id, m."imageId"::text AS "imageId", m.rle, m.bbox, m.area, m."predictedIou",
           m."stabilityScore", m.label, m.source::text AS source, m.stage::text AS stage,
           m."jobId"::text AS "jobId", m.status::text AS status, m.version, m."authorId"::text AS "authorId",
           u.name AS "authorName", t."activeMs", m."reviewDecision"::text AS "reviewDecision",
           r.reason AS "reviewReason", ru.name AS "reviewerName", m."createdAt", mv.name AS "modelVersionName"
    FROM "Mask" m
    LEFT JOIN "User" u ON u.id = m."authorId"
    LEFT JOIN "MaskTiming" t ON t."maskId" = m.id
    LEFT JOIN LATERAL (
      SELECT x.reason, x."reviewerId" FROM "MaskReview" x
      WHERE x."maskId" = m.id
      ORDER BY x."createdAt" DESC, x.id DESC
      LIMIT 1
    ) r ON true
    LEFT JOIN "User" ru ON ru.id = r."reviewerId"
    LEFT JOIN "ModelVersion" mv ON mv.id = m."modelVersionId"
    WHERE ${where}
    ORDER BY m."createdAt", m.id`;
}

function toMaskView({ modelVersionName: _, ...row }: MaskViewRow): MaskView {
  return { ...row, rle: storedRleSchema.parse(row.rle), bbox: storedBbox.parse(row.bbox) };
}

export async function maskView(db: Db, id: string): Promise<MaskView> {
  const [row] = await maskViewRows(db, Prisma.sql`m.id = ${id}::uuid`);
  if (!row) throw new Error(`mask ${id} not found`);
  return toMaskView(row);
}

/** The live (not deleted) masks of an image, oldest first: what the annotation page shows. */
export async function imageMaskViews(db: Db, imageId: string): Promise<MaskView[]> {
  return (await imageMasksWithModelVersions(db, imageId)).masks;
}

/**
 * The image's live masks (as imageMaskViews), and mask id -> name of the model version that made it
 * for those that record one: the annotation page's masks, in one query.
 */
export async function imageMasksWithModelVersions(
  db: Db,
  imageId: string,
): Promise<{ masks: MaskView[]; maskModelVersions: Record<string, string> }> {
  const rows = await maskViewRows(db, Prisma.sql`m."imageId" = ${imageId}::uuid AND m.status <> 'deleted'`);
  const maskModelVersions: Record<string, string> = {};
  for (const row of rows) if (row.modelVersionName !== null) maskModelVersions[row.id] = row.modelVersionName;
  return { masks: rows.map(toMaskView), maskModelVersions };
}
