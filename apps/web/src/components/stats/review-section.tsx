"use client";

import type { RouterOutputs } from "@sas/api";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartCard, Empty } from "./chart-card";
import { decimal, palette, share, sourceNames, stageNames } from "./format";
import styles from "./stats.module.css";

type Review = RouterOutputs["stats"]["review"];

/** Approved, corrected and rejected shares by stage and source; IoU of corrections. */
export function ReviewSection({ data, csvHref }: { data: Review; csvHref: string }) {
  const t = data.totals;
  const rows = data.outcomes.map((o) => ({
    ...o,
    label: `${stageNames[o.stage] ?? o.stage} / ${sourceNames[o.source] ?? o.source}`,
  }));
  const bins = data.iou.histogram.map((b) => ({ ...b, label: `${b.from.toFixed(1)}–${b.to.toFixed(1)}` }));
  return (
    <div className={styles.grid}>
      <ChartCard
        title="Review outcomes by stage and source"
        testId="chart-review-outcomes"
        csvHref={csvHref}
        caption={`${t.approved + t.corrected + t.rejected} of ${t.masks} masks reviewed · approved ${share(
          t.approvedShare,
        )} · corrected ${share(t.correctedShare)} · rejected ${share(t.rejectedShare)}`}
      >
        {rows.length ? (
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={rows}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="approved" stackId="r" fill={palette[2]} isAnimationActive={false} />
              <Bar dataKey="corrected" stackId="r" fill={palette[1]} isAnimationActive={false} />
              <Bar dataKey="rejected" stackId="r" fill={palette[3]} isAnimationActive={false} />
              <Bar dataKey="unreviewed" stackId="r" fill="#d1d5db" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="IoU between original and corrected masks"
        testId="chart-review-iou"
        csvHref={csvHref}
        caption={`${data.iou.corrections} corrections · ${share(data.iou.shareAboveGood)} above 0.9 · mean ${decimal(
          data.iou.mean,
          2,
        )}${data.iou.bySource
          .map((s) => ` · ${sourceNames[s.source] ?? s.source}: ${share(s.shareAboveGood)} above 0.9`)
          .join("")}`}
      >
        {data.iou.corrections ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={bins}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="count" name="corrections" fill={palette[4]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
    </div>
  );
}
