"use client";

import type { RouterOutputs } from "@sas/api";
import Link from "next/link";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { ChartCard, Empty } from "./chart-card";
import { day, decimal, palette, seconds, stageNames } from "./format";
import styles from "./stats.module.css";

type Timing = RouterOutputs["stats"]["timing"];
type Grouped = Timing["byAnnotator"];

function GroupedBars({ rows }: { rows: Grouped }) {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={rows.map((r) => ({ ...r, label: stageNames[r.label] ?? r.label }))}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="label" />
        <YAxis unit=" s" />
        <Tooltip formatter={(v) => seconds(Number(v))} />
        <Legend />
        <Bar dataKey="median" name="median" fill={palette[0]} isAnimationActive={false} />
        <Bar dataKey="p90" name="p90" fill={palette[1]} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

const groupCaption = (rows: Grouped) =>
  rows
    .map((r) => `${stageNames[r.label] ?? r.label}: ${r.masks} masks, median ${seconds(r.median)}`)
    .join(" · ");

/** Seconds per mask: over time, by annotator, by stage, by model version; and interactions per mask. */
export function TimingSection({
  projectId,
  data,
  csvHref,
}: {
  projectId: string;
  data: Timing;
  csvHref: string;
}) {
  const weeks = data.byWeek.map((w) => ({ ...w, label: day(w.week) }));
  const i = data.interactions;
  return (
    <div className={styles.grid}>
      <ChartCard
        title="Seconds per mask, week by week"
        testId="chart-timing-weekly"
        csvHref={csvHref}
        caption={`${data.overall.masks} timed masks in ${weeks.length} weeks · median ${seconds(
          data.overall.median,
        )} · p90 ${seconds(data.overall.p90)}`}
      >
        {weeks.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={weeks}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis unit=" s" />
              <Tooltip formatter={(v) => seconds(Number(v))} />
              <Legend />
              <Line dataKey="median" name="median" stroke={palette[0]} isAnimationActive={false} />
              <Line dataKey="p90" name="p90" stroke={palette[1]} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Seconds per mask by annotator"
        testId="chart-timing-annotator"
        csvHref={csvHref}
        caption={groupCaption(data.byAnnotator) || "no timed masks"}
      >
        {data.byAnnotator.length ? <GroupedBars rows={data.byAnnotator} /> : <Empty />}
        <ul className={styles.people}>
          {data.byAnnotator.map((a) =>
            a.key ? (
              <li key={a.key}>
                <Link href={`/projects/${projectId}/stats/annotators/${a.key}`}>{a.label}</Link>
              </li>
            ) : null,
          )}
        </ul>
      </ChartCard>
      <ChartCard
        title="Seconds per mask by stage"
        testId="chart-timing-stage"
        csvHref={csvHref}
        caption={groupCaption(data.byStage) || "no timed masks"}
      >
        {data.byStage.length ? <GroupedBars rows={data.byStage} /> : <Empty />}
      </ChartCard>
      <ChartCard
        title="Seconds per mask by model version"
        testId="chart-timing-model"
        csvHref={csvHref}
        caption={groupCaption(data.byModelVersion) || "no timed masks"}
      >
        {data.byModelVersion.length ? <GroupedBars rows={data.byModelVersion} /> : <Empty />}
      </ChartCard>
      <ChartCard
        title="Interactions per mask"
        testId="chart-interactions"
        csvHref={csvHref}
        caption={`${i.masks} timed masks · clicks ${decimal(i.clicks.mean)} · boxes ${decimal(
          i.boxes.mean,
        )} · brush strokes ${decimal(i.brushStrokes.mean)} · undos ${decimal(i.undos.mean)} per mask (mean)`}
      >
        {i.masks ? (
          <ResponsiveContainer width="100%" height={200}>
            <BarChart
              data={[
                { name: "clicks", mean: i.clicks.mean, median: i.clicks.median },
                { name: "boxes", mean: i.boxes.mean, median: i.boxes.median },
                { name: "brush strokes", mean: i.brushStrokes.mean, median: i.brushStrokes.median },
                { name: "undos", mean: i.undos.mean, median: i.undos.median },
              ]}
            >
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="name" />
              <YAxis />
              <Tooltip formatter={(v) => decimal(Number(v), 2)} />
              <Legend />
              <Bar dataKey="mean" fill={palette[0]} isAnimationActive={false} />
              <Bar dataKey="median" fill={palette[2]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
    </div>
  );
}
