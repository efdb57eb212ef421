import { Prisma, type PrismaClient } from "../../generated/prisma/client";
import { RuleViolation } from "../users";
import { MASKS_OF_PROJECT, type StatsFiltersInput, type StatsScope, statsRows, statsScope } from "./filters";
import { reviewOutcomes } from "./review";
import { type SecondsPerMask, secondsPerMaskWithWeeks, type WeeklySeconds } from "./timing";

/**
 * One annotator against the project: their seconds per mask week by week beside the project's, their
 * masks per active hour beside the median annotator's, and their review outcomes beside everyone's.
 * The same filters apply to both sides (the annotator filter itself is replaced by the person asked for).
 */
export interface ReviewShares {
  reviewed: number;
  approvedShare: number | null;
  correctedShare: number | null;
  rejectedShare: number | null;
}

export interface AnnotatorStats {
  annotator: { id: string; name: string };
  seconds: { annotator: SecondsPerMask; project: SecondsPerMask };
  weekly: {
    week: Date;
    annotatorMedian: number | null;
    projectMedian: number | null;
    annotatorMasks: number;
  }[];
  masksPerHour: { annotator: number | null; projectMedian: number | null; annotators: number };
  review: { annotator: ReviewShares; project: ReviewShares };
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2;
}

function shares(rows: { approved: number; corrected: number; rejected: number }[]): ReviewShares {
  const approved = rows.reduce((s, r) => s + r.approved, 0);
  const corrected = rows.reduce((s, r) => s + r.corrected, 0);
  const rejected = rows.reduce((s, r) => s + r.rejected, 0);
  const reviewed = approved + corrected + rejected;
  const share = (n: number) => (reviewed ? n / reviewed : null);
  return {
    reviewed,
    approvedShare: share(approved),
    correctedShare: share(corrected),
    rejectedShare: share(rejected),
  };
}

/**
 * Per annotator (the timing's annotator): masks per active hour as masksPerHourByAnnotator gives it, and the
 * review decisions of all the work's masks (untimed ones under a null key), so that their sum is the
 * project's reviewOutcomes. One pass instead of two.
 */
async function ratesAndReviews(db: PrismaClient, scope: StatsScope) {
  return statsRows<
    {
      key: string | null;
      timed: number;
      masksPerHour: number | null;
      approved: number;
      corrected: number;
      rejected: number;
    }[]
  >(
    db,
    Prisma.sql`
    SELECT m."annotatorId"::text AS key, (count(*) FILTER (WHERE m."activeMs" IS NOT NULL))::int AS timed,
      (count(*) FILTER (WHERE m."activeMs" IS NOT NULL) / nullif(sum(m."activeMs") / 3600000.0, 0))::float8
        AS "masksPerHour",
      (count(*) FILTER (WHERE m."reviewDecision" = 'approved'))::int AS approved,
      (count(*) FILTER (WHERE m."reviewDecision" = 'corrected'))::int AS corrected,
      (count(*) FILTER (WHERE m."reviewDecision" = 'rejected'))::int AS rejected
    FROM ${MASKS_OF_PROJECT} WHERE ${scope.where("work")} GROUP BY m."annotatorId"`,
  );
}

export async function annotatorStats(
  db: PrismaClient,
  filters: StatsFiltersInput,
  annotatorId: string,
): Promise<AnnotatorStats> {
  // Only people of this project (members, or past members whose masks are still in it) have a page here.
  const user = await db.user.findFirst({
    where: {
      id: annotatorId,
      OR: [
        { memberships: { some: { projectId: filters.projectId } } },
        { masks: { some: { image: { projectId: filters.projectId } } } },
      ],
    },
    select: { id: true, name: true },
  });
  if (!user) throw new RuleViolation("NOT_FOUND", "annotator not found");
  const [mine, everyone] = await Promise.all([
    statsScope(db, { ...filters, annotatorId }),
    statsScope(db, { ...filters, annotatorId: undefined }),
  ]);
  // Seconds per mask overall and weekly come from one pass each (the annotator's, the project's); the
  // project's rates by annotator and its review outcomes from one more.
  const [ownTiming, projectTiming, project, ownReview] = await Promise.all([
    secondsPerMaskWithWeeks(db, mine),
    secondsPerMaskWithWeeks(db, everyone),
    ratesAndReviews(db, everyone),
    reviewOutcomes(db, mine),
  ]);
  const rates = project.filter((r) => r.timed > 0);
  const projectReview = project;
  const { overall: ownSeconds, byWeek: ownWeeks } = ownTiming;
  const { overall: projectSeconds, byWeek: projectWeeks } = projectTiming;
  const own = new Map<number, WeeklySeconds>(ownWeeks.map((w) => [w.week.getTime(), w]));
  return {
    annotator: user,
    seconds: { annotator: ownSeconds, project: projectSeconds },
    weekly: projectWeeks.map((w) => ({
      week: w.week,
      projectMedian: w.median,
      annotatorMedian: own.get(w.week.getTime())?.median ?? null,
      annotatorMasks: own.get(w.week.getTime())?.masks ?? 0,
    })),
    masksPerHour: {
      annotator: rates.find((r) => r.key === annotatorId)?.masksPerHour ?? null,
      projectMedian: median(rates.flatMap((r) => (r.masksPerHour === null ? [] : [r.masksPerHour]))),
      annotators: rates.length,
    },
    review: { annotator: shares(ownReview), project: shares(projectReview) },
  };
}
