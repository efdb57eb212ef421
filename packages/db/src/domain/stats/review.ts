import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { MASKS_OF_PROJECT, type StatsScope, statsRows } from "./filters";

/**
 * Review outcomes: each mask's latest decision (Mask.reviewDecision), counted by stage and source; shares
 * are of the reviewed masks. The quality of masks that needed a correction is IoU(original, corrected),
 * stored on the review row when the correction is made (domain/masks/review.ts); every correction is one
 * sample. The SA-1B paper reports 94% of automatic masks above 0.9.
 */
export const GOOD_IOU = 0.9;
/** Histogram bins of width 0.1 over [0, 1]; the last bin holds IoU 1 too. */
export const IOU_BINS = 10;

export interface ReviewOutcomes {
  stage: string;
  source: string;
  masks: number;
  unreviewed: number;
  approved: number;
  corrected: number;
  rejected: number;
  /** Shares of the reviewed masks (null when none was reviewed). */
  approvedShare: number | null;
  correctedShare: number | null;
  rejectedShare: number | null;
}

export interface IouBin {
  from: number;
  to: number;
  count: number;
}

export interface CorrectionIou {
  corrections: number;
  mean: number | null;
  /** Share of corrections with IoU > 0.9. */
  shareAboveGood: number | null;
  histogram: IouBin[];
  bySource: { source: string; corrections: number; shareAboveGood: number | null }[];
}

export interface ReviewStats {
  totals: Omit<ReviewOutcomes, "stage" | "source">;
  outcomes: ReviewOutcomes[];
  iou: CorrectionIou;
}

type Counts = Omit<ReviewOutcomes, "stage" | "source" | "approvedShare" | "correctedShare" | "rejectedShare">;

function withShares<T extends Counts>(
  row: T,
): T & Pick<ReviewOutcomes, "approvedShare" | "correctedShare" | "rejectedShare"> {
  const reviewed = row.approved + row.corrected + row.rejected;
  const share = (n: number) => (reviewed ? n / reviewed : null);
  return {
    ...row,
    approvedShare: share(row.approved),
    correctedShare: share(row.corrected),
    rejectedShare: share(row.rejected),
  };
}

export async function reviewOutcomes(db: PrismaClient, scope: StatsScope): Promise<ReviewOutcomes[]> {
  const rows = await statsRows<(Counts & { stage: string; source: string })[]>(
    db,
    Prisma.sql`
    SELECT m.stage::text AS stage, m.source::text AS source, count(*)::int AS masks,
      (count(*) FILTER (WHERE m."reviewDecision" IS NULL))::int AS unreviewed,
      (count(*) FILTER (WHERE m."reviewDecision" = 'approved'))::int AS approved,
      (count(*) FILTER (WHERE m."reviewDecision" = 'corrected'))::int AS corrected,
      (count(*) FILTER (WHERE m."reviewDecision" = 'rejected'))::int AS rejected
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")}
    GROUP BY m.stage, m.source ORDER BY m.stage, m.source`,
  );
  return rows.map(withShares);
}

export async function correctionIou(db: PrismaClient, scope: StatsScope): Promise<CorrectionIou> {
  const rows = await statsRows<
    { source: string; bin: number; count: number; iouSum: number; good: number }[]
  >(
    db,
    Prisma.sql`
    SELECT m.source::text AS source, least(floor(r.iou * ${IOU_BINS}), ${IOU_BINS - 1})::int AS bin,
      count(*)::int AS count, sum(r.iou)::float8 AS "iouSum",
      (count(*) FILTER (WHERE r.iou > ${GOOD_IOU}))::int AS good
    FROM ${MASKS_OF_PROJECT} JOIN "MaskReview" r ON r."maskId" = m."maskId"
    WHERE ${scope.where("work")} AND r.decision = 'corrected' AND r.iou IS NOT NULL
    GROUP BY 1, 2`,
  );
  const histogram: IouBin[] = Array.from({ length: IOU_BINS }, (_, b) => ({
    from: b / IOU_BINS,
    to: (b + 1) / IOU_BINS,
    count: 0,
  }));
  const sources = new Map<string, { corrections: number; good: number }>();
  let corrections = 0;
  let good = 0;
  let iouSum = 0;
  for (const row of rows) {
    histogram[row.bin]!.count += row.count;
    corrections += row.count;
    good += row.good;
    iouSum += row.iouSum;
    const s = sources.get(row.source) ?? { corrections: 0, good: 0 };
    s.corrections += row.count;
    s.good += row.good;
    sources.set(row.source, s);
  }
  return {
    corrections,
    mean: corrections ? iouSum / corrections : null,
    shareAboveGood: corrections ? good / corrections : null,
    histogram,
    bySource: [...sources]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([source, s]) => ({
        source,
        corrections: s.corrections,
        shareAboveGood: s.corrections ? s.good / s.corrections : null,
      })),
  };
}

export async function reviewStats(db: PrismaClient, scope: StatsScope): Promise<ReviewStats> {
  const [outcomes, iou] = await Promise.all([reviewOutcomes(db, scope), correctionIou(db, scope)]);
  const totals = withShares(
    outcomes.reduce<Counts>(
      (sum, r) => ({
        masks: sum.masks + r.masks,
        unreviewed: sum.unreviewed + r.unreviewed,
        approved: sum.approved + r.approved,
        corrected: sum.corrected + r.corrected,
        rejected: sum.rejected + r.rejected,
      }),
      { masks: 0, unreviewed: 0, approved: 0, corrected: 0, rejected: 0 },
    ),
  );
  return { totals, outcomes, iou };
}
