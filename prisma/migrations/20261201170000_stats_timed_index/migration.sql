-- Exact percentiles of active time without sorting every timed mask (packages/db/src/domain/stats/timing.ts):
-- a first pass counts masks per 128 ms bin, then each value a percentile needs is read from its bin alone,
-- in active-time order through this index. The other columns are what the dashboard filters by, so the
-- read never visits the table (an index-only scan).

-- CreateIndex
CREATE INDEX "MaskStat_timed_idx" ON "MaskStat"("projectId", "activeMs", "createdAt", "stage", "source", "status", "modelVersionId", "authorId", "annotatorId");

-- Corrections and their IoU (domain/stats/review.ts) read from the index alone: the review rows themselves
-- carry the original RLE.

-- CreateIndex
CREATE INDEX "MaskReview_corrections_idx" ON "MaskReview"("decision", "maskId", "iou");

-- One annotator's masks (their page, the annotator filter) without reading the project's.

-- CreateIndex
CREATE INDEX "MaskStat_projectId_authorId_createdAt_idx" ON "MaskStat"("projectId", "authorId", "createdAt");

-- How many values the dashboard's group keys take (weeks, days, bins), so the planner groups in a small
-- hash table, in parallel, instead of sorting every mask or sizing a table for a group per mask, which it
-- does when it guesses a group per row. The expressions are exactly those the queries group by
-- (domain/stats/timing.ts, throughput.ts, dataset.ts); change both together.
CREATE STATISTICS "MaskStat_week_stats" ON (date_trunc('week', "createdAt")) FROM "MaskStat";
CREATE STATISTICS "MaskStat_day_stats" ON (date_trunc('day', "createdAt")) FROM "MaskStat";
CREATE STATISTICS "MaskStat_active_bin_stats" ON ("activeMs" >> 7) FROM "MaskStat";
CREATE STATISTICS "MaskStat_centre_stats" ON (greatest(least(floor("centreY" * 10), 9), 0)::int),
  (greatest(least(floor("centreX" * 10), 9), 0)::int) FROM "MaskStat";
CREATE STATISTICS "MaskStat_size_stats"
  ON (least(floor(sqrt("area"::float8 / ("imageWidth"::float8 * "imageHeight")) * 20), 19)::int) FROM "MaskStat";
ANALYZE "MaskStat";
