import type { CocoRle } from "@sas/sa1b";
import { z } from "zod";
import type {
  MaskSource,
  MaskStatus,
  Prisma,
  PrismaClient,
  ReviewDecision,
  Stage,
} from "../../generated/prisma/client";
import type { SamBbox } from "./geometry";

/** What every mask query selects to build a MaskView. */
export const maskViewSelect = {
  id: true,
  imageId: true,
  rle: true,
  bbox: true,
  area: true,
  predictedIou: true,
  stabilityScore: true,
  label: true,
  source: true,
  stage: true,
  jobId: true,
  status: true,
  version: true,
  authorId: true,
  reviewDecision: true,
  createdAt: true,
  author: { select: { name: true } },
  timing: { select: { activeMs: true } },
  // The latest review, for its reason: a rejected mask's author must see why, after a reload too.
  reviews: {
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 1,
    select: { reason: true, reviewer: { select: { name: true } } },
  },
} as const satisfies Prisma.MaskSelect;

type MaskViewRow = Prisma.MaskGetPayload<{ select: typeof maskViewSelect }>;

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

export function toMaskView(row: MaskViewRow): MaskView {
  return {
    id: row.id,
    imageId: row.imageId,
    rle: storedRleSchema.parse(row.rle),
    bbox: storedBbox.parse(row.bbox),
    area: row.area,
    predictedIou: row.predictedIou,
    stabilityScore: row.stabilityScore,
    label: row.label,
    source: row.source,
    stage: row.stage,
    jobId: row.jobId,
    status: row.status,
    version: row.version,
    authorId: row.authorId,
    authorName: row.author?.name ?? null,
    activeMs: row.timing?.activeMs ?? null,
    reviewDecision: row.reviewDecision,
    reviewReason: row.reviews[0]?.reason ?? null,
    reviewerName: row.reviews[0]?.reviewer?.name ?? null,
    createdAt: row.createdAt,
  };
}

type Db = PrismaClient | Prisma.TransactionClient;

export async function maskView(db: Db, id: string): Promise<MaskView> {
  return toMaskView(await db.mask.findUniqueOrThrow({ where: { id }, select: maskViewSelect }));
}

/** The live (not deleted) masks of an image, oldest first: what the annotation page shows. */
export async function imageMaskViews(db: Db, imageId: string): Promise<MaskView[]> {
  const rows = await db.mask.findMany({
    where: { imageId, status: { not: "deleted" } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: maskViewSelect,
  });
  return rows.map(toMaskView);
}
