"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "../../trpc/client";
import { ChartCard, Empty } from "./chart-card";
import { StatsError } from "./dashboard";
import { FilterBar } from "./filter-bar";
import { day, decimal, palette, seconds, share } from "./format";
import styles from "./stats.module.css";
import { csvQuery, useStatsFilters } from "./use-filters";

/** One annotator against the project: seconds per mask trend, masks per hour, review outcomes. */
export function AnnotatorView({ projectId, userId }: { projectId: string; userId: string }) {
  const trpc = useTRPC();
  const { values, filters, set, clear } = useStatsFilters();
  const stats = useQuery(trpc.stats.annotator.queryOptions({ projectId, ...filters, userId }));
  if (stats.error) return <StatsError code={stats.error.data?.code} message={stats.error.message} />;
  const back = `/projects/${projectId}/stats`;
  if (!stats.data) return <p className="muted">Loading…</p>;
  const a = stats.data;
  const weeks = a.weekly.map((w) => ({ ...w, label: day(w.week) }));
  const csv = `/api/projects/${projectId}/stats/timing${csvQuery({ ...filters, annotatorId: userId })}`;
  return (
    <>
      <h1 data-testid="annotator-name">{a.annotator.name}</h1>
      <FilterBar projectId={projectId} values={values} set={set} clear={clear} hideAnnotator />
      <div className={styles.figures} data-testid="annotator-figures">
        <div className={styles.figure} data-testid="annotator-seconds">
          <strong>{seconds(a.seconds.annotator.median)}</strong>
          <span>
            median per mask ({a.seconds.annotator.masks} masks) · project {seconds(a.seconds.project.median)}
          </span>
        </div>
        <div className={styles.figure} data-testid="annotator-rate">
          <strong>{decimal(a.masksPerHour.annotator)}</strong>
          <span>
            masks per active hour · project median {decimal(a.masksPerHour.projectMedian)} (
            {a.masksPerHour.annotators} annotators)
          </span>
        </div>
        <div className={styles.figure} data-testid="annotator-review">
          <strong>{share(a.review.annotator.approvedShare)} approved</strong>
          <span>
            {a.review.annotator.reviewed} reviewed · corrected {share(a.review.annotator.correctedShare)} ·
            rejected {share(a.review.annotator.rejectedShare)} · project{" "}
            {share(a.review.project.approvedShare)} approved
          </span>
        </div>
      </div>
      <ChartCard
        title="Seconds per mask, against the project"
        testId="chart-annotator-weekly"
        csvHref={csv}
        caption={`${weeks.length} weeks · ${a.seconds.annotator.masks} of ${a.seconds.project.masks} timed masks`}
      >
        {weeks.length ? (
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={weeks}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis unit=" s" />
              <Tooltip formatter={(v) => seconds(Number(v))} />
              <Legend />
              <Line
                dataKey="annotatorMedian"
                name={`${a.annotator.name} (median)`}
                stroke={palette[0]}
                connectNulls
                isAnimationActive={false}
              />
              <Line
                dataKey="projectMedian"
                name="project median"
                stroke={palette[1]}
                strokeDasharray="5 3"
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <p>
        <Link href={back}>← Project statistics</Link>
      </p>
    </>
  );
}
