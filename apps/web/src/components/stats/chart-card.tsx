"use client";

import type { ReactNode } from "react";
import styles from "./stats.module.css";

interface Props {
  title: string;
  testId: string;
  /** The numbers behind the chart, in words: what a reader (and the e2e test) checks. */
  caption: ReactNode;
  /** Link to the per-mask CSV behind this chart. */
  csvHref?: string;
  children: ReactNode;
}

export function ChartCard({ title, testId, caption, csvHref, children }: Props) {
  return (
    <section className={styles.card} data-testid={testId} aria-label={title}>
      <div className={styles.cardHead}>
        <h3>{title}</h3>
        {csvHref ? (
          <a className={styles.csv} href={csvHref} download data-testid={`${testId}-csv`}>
            CSV
          </a>
        ) : null}
      </div>
      <p className={styles.caption} data-testid={`${testId}-caption`}>
        {caption}
      </p>
      {children}
    </section>
  );
}

/** What a chart shows when its filters leave nothing to count. */
export function Empty() {
  return <p className="muted">No masks match these filters.</p>;
}
