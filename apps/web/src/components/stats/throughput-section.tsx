"use client";

import type { RouterOutputs } from "@sas/api";
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
import { day, decimal, palette, stageNames } from "./format";
import styles from "./stats.module.css";

type Throughput = RouterOutputs["stats"]["throughput"];

/** Masks per hour of active time, images per day, masks per image over time and by stage. */
export function ThroughputSection({ data, csvHref }: { data: Throughput; csvHref: string }) {
  const perDay = data.imagesPerDay.map((d) => ({ ...d, label: day(d.day) }));
  const perWeek = data.byWeek.map((w) => ({ ...w, label: day(w.week) }));
  const mpiWeeks = data.masksPerImageByWeek.map((w) => ({ ...w, label: day(w.week) }));
  const mpiStages = data.masksPerImageByStage.map((s) => ({ ...s, label: stageNames[s.stage] ?? s.stage }));
  const images = perDay.reduce((sum, d) => sum + d.images, 0);
  return (
    <div className={styles.grid}>
      <ChartCard
        title="Masks per hour of active time"
        testId="chart-throughput-annotator"
        csvHref={csvHref}
        caption={`${data.overall.masks} masks in ${decimal(data.overall.activeHours, 2)} active hours · ${decimal(
          data.overall.masksPerHour,
        )} masks per hour`}
      >
        {data.byAnnotator.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={data.byAnnotator}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis />
              <Tooltip formatter={(v) => decimal(Number(v))} />
              <Bar dataKey="masksPerHour" name="masks per hour" fill={palette[0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Masks per hour, week by week"
        testId="chart-throughput-weekly"
        csvHref={csvHref}
        caption={
          perWeek.map((w) => `${w.label}: ${decimal(w.masksPerHour)}/h`).join(" · ") || "no timed masks"
        }
      >
        {perWeek.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={perWeek}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis />
              <Tooltip formatter={(v) => decimal(Number(v))} />
              <Line
                dataKey="masksPerHour"
                name="masks per hour"
                stroke={palette[0]}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Images per day"
        testId="chart-images-per-day"
        csvHref={csvHref}
        caption={`${perDay.length} days · ${images} image-days · ${perDay.reduce((s, d) => s + d.masks, 0)} masks`}
      >
        {perDay.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={perDay}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="images" name="images" fill={palette[2]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Masks per image, week by week"
        testId="chart-masks-per-image-weekly"
        csvHref={csvHref}
        caption={
          mpiWeeks.map((w) => `${w.label}: ${w.images} images, mean ${decimal(w.mean)}`).join(" · ") ||
          "no masks"
        }
      >
        {mpiWeeks.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={mpiWeeks}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis />
              <Tooltip formatter={(v) => decimal(Number(v))} />
              <Legend />
              <Line dataKey="mean" stroke={palette[0]} isAnimationActive={false} />
              <Line dataKey="median" stroke={palette[1]} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Masks per image by stage"
        testId="chart-masks-per-image-stage"
        csvHref={csvHref}
        caption={
          mpiStages.map((s) => `${s.label}: ${s.masks} masks on ${s.images} images`).join(" · ") || "no masks"
        }
      >
        {mpiStages.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={mpiStages}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis />
              <Tooltip formatter={(v) => decimal(Number(v))} />
              <Legend />
              <Bar dataKey="mean" fill={palette[0]} isAnimationActive={false} />
              <Bar dataKey="median" fill={palette[1]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
    </div>
  );
}
