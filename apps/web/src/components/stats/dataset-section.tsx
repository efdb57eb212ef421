"use client";

import type { RouterOutputs } from "@sas/api";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Pie,
  PieChart,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from "recharts";
import { ChartCard, Empty } from "./chart-card";
import { decimal, palette, share, sourceNames, stageNames } from "./format";
import styles from "./stats.module.css";

type Dataset = RouterOutputs["stats"]["dataset"];

interface CellPoint {
  x: number;
  y: number;
  count: number;
}

/**
 * The centre heatmap as a scatter of grid cells: each cell a square whose opacity is its count relative
 * to the fullest cell. The y axis runs downwards, as image rows do.
 */
function CentreHeatmap({ centres }: { centres: Dataset["centres"] }) {
  const points: CellPoint[] = centres.cells.flatMap((row, r) =>
    row.map((count, c) => ({ x: (c + 0.5) / centres.grid, y: (r + 0.5) / centres.grid, count })),
  );
  const max = Math.max(1, ...points.map((p) => p.count));
  return (
    <div className={styles.heatmap}>
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
          <XAxis type="number" dataKey="x" domain={[0, 1]} name="x" tickCount={6} />
          <YAxis type="number" dataKey="y" domain={[0, 1]} reversed name="y" tickCount={6} />
          <ZAxis type="number" dataKey="count" name="masks" />
          <Tooltip formatter={(v) => String(v)} />
          <Scatter
            data={points}
            isAnimationActive={false}
            shape={(props: unknown) => {
              const p = props as { cx: number; cy: number; payload: CellPoint; xAxis?: { width: number } };
              const size = ((p.xAxis?.width ?? 300) / centres.grid) * 0.98;
              return (
                <rect
                  x={p.cx - size / 2}
                  y={p.cy - size / 2}
                  width={size}
                  height={size}
                  fill={palette[0]}
                  fillOpacity={p.payload.count / max}
                />
              );
            }}
          />
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}

/** SA-1B's dataset figures: masks per image, relative mask size, centre heatmap, stage and source split. */
export function DatasetSection({ data, csvHref }: { data: Dataset; csvHref: string }) {
  const mpi = data.masksPerImage;
  const bins = mpi.bins.map((b) => ({ ...b, label: b.to === null ? `>${b.from - 1}` : `${b.from}–${b.to}` }));
  const sizes = data.relativeSize.bins.map((b) => ({ ...b, label: b.from.toFixed(2) }));
  const split = data.split.map((s) => ({
    ...s,
    label: `${stageNames[s.stage] ?? s.stage} / ${sourceNames[s.source] ?? s.source}`,
  }));
  return (
    <div className={styles.grid}>
      <ChartCard
        title="Masks per image"
        testId="chart-dataset-masks-per-image"
        csvHref={csvHref}
        caption={`${mpi.masks} masks on ${mpi.images} images · mean ${decimal(mpi.mean)} · median ${decimal(
          mpi.median,
        )}`}
      >
        {mpi.images ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={bins}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="images" fill={palette[0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Relative mask size, sqrt(mask area / image area)"
        testId="chart-dataset-size"
        csvHref={csvHref}
        caption={`${data.relativeSize.masks} masks · mean ${decimal(data.relativeSize.mean, 3)}`}
      >
        {data.relativeSize.masks ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={sizes}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="count" name="masks" fill={palette[2]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
      <ChartCard
        title="Mask centres over the normalised image"
        testId="chart-dataset-centres"
        csvHref={csvHref}
        caption={`${data.centres.masks} mask centres on a ${data.centres.grid}×${data.centres.grid} grid`}
      >
        {data.centres.masks ? <CentreHeatmap centres={data.centres} /> : <Empty />}
      </ChartCard>
      <ChartCard
        title="Masks by stage and source"
        testId="chart-dataset-split"
        csvHref={csvHref}
        caption={split.map((s) => `${s.label}: ${s.masks} (${share(s.share)})`).join(" · ") || "no masks"}
      >
        {split.length ? (
          <ResponsiveContainer width="100%" height={220}>
            <PieChart>
              <Pie data={split} dataKey="masks" nameKey="label" outerRadius={80} isAnimationActive={false}>
                {split.map((s, k) => (
                  <Cell key={s.label} fill={palette[k % palette.length]} />
                ))}
              </Pie>
              <Tooltip />
              <Legend />
            </PieChart>
          </ResponsiveContainer>
        ) : (
          <Empty />
        )}
      </ChartCard>
    </div>
  );
}
