"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../trpc/client";
import { DatasetSection } from "./dataset-section";
import { FilterBar } from "./filter-bar";
import { ReviewSection } from "./review-section";
import styles from "./stats.module.css";
import { ThroughputSection } from "./throughput-section";
import { TimingSection } from "./timing-section";
import { csvQuery, useStatsFilters } from "./use-filters";

/** Says why a statistics query failed, in the words the rest of the app uses. */
export function StatsError({ code, message }: { code?: string; message: string }) {
  return (
    <p role="alert" className="error" data-testid="stats-error">
      {code === "FORBIDDEN"
        ? "Only the project's managers and admins can see its statistics."
        : code === "NOT_FOUND"
          ? "This project does not exist, or you are not a member."
          : `Statistics could not be loaded: ${message}`}
    </p>
  );
}

/** The manager dashboard of one project: filters, then time, throughput, review and dataset charts. */
export function StatsDashboard({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const { values, filters, set, clear } = useStatsFilters();
  const input = { projectId, ...filters };
  const timing = useQuery(trpc.stats.timing.queryOptions(input));
  const throughput = useQuery(trpc.stats.throughput.queryOptions(input));
  const review = useQuery(trpc.stats.review.queryOptions(input));
  const dataset = useQuery(trpc.stats.dataset.queryOptions(input));
  const csv = (view: string) => `/api/projects/${projectId}/stats/${view}${csvQuery(filters)}`;

  const failed = [timing, throughput, review, dataset].find((q) => q.error)?.error;
  if (failed) return <StatsError code={failed.data?.code} message={failed.message} />;
  return (
    <>
      <FilterBar projectId={projectId} values={values} set={set} clear={clear} />
      <section className={styles.section} aria-labelledby="stats-time">
        <h2 id="stats-time">Time per mask</h2>
        {timing.data ? (
          <TimingSection projectId={projectId} data={timing.data} csvHref={csv("timing")} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
      <section className={styles.section} aria-labelledby="stats-throughput">
        <h2 id="stats-throughput">Throughput</h2>
        {throughput.data ? (
          <ThroughputSection data={throughput.data} csvHref={csv("throughput")} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
      <section className={styles.section} aria-labelledby="stats-review">
        <h2 id="stats-review">Review</h2>
        {review.data ? (
          <ReviewSection data={review.data} csvHref={csv("review")} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
      <section className={styles.section} aria-labelledby="stats-dataset">
        <h2 id="stats-dataset">Dataset</h2>
        <p className="muted">
          As the SA-1B paper shows its dataset: accepted and proposed masks
          {values.exportId ? " of the chosen export's selection" : " of the project"}.
        </p>
        {dataset.data ? (
          <DatasetSection data={dataset.data} csvHref={csv("dataset")} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
      <p>
        <Link href={`/projects/${projectId}`}>← Back to the project</Link>
      </p>
    </>
  );
}
