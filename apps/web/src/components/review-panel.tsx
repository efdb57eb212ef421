"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../trpc/client";

const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v * 100)}%`);

/**
 * For a project's reviewers and managers: what is waiting for review, the decisions so far, and how much
 * corrections changed masks (the SA-1B paper's measure: share of corrected masks with IoU above 0.9
 * against their original).
 */
export function ReviewPanel({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const stats = useQuery({ ...trpc.review.stats.queryOptions({ projectId }), refetchInterval: 15_000 });
  const queue = useQuery({
    ...trpc.review.queue.queryOptions({ projectId, limit: 20 }),
    refetchInterval: 15_000,
  });
  if (stats.error || queue.error) return null;
  const s = stats.data;
  const decided = s ? s.approved + s.rejected + s.corrected : 0;
  const total = s ? decided + s.unreviewed : 0;
  const maxBin = s ? Math.max(1, ...s.histogram.map((b) => b.count)) : 1;
  return (
    <section className="card" aria-labelledby="review-title" data-testid="review-panel">
      <h2 id="review-title">Review</h2>
      {s ? (
        <>
          <div className="stacked-bar" role="img" aria-label="Masks by review decision">
            {(["approved", "corrected", "rejected", "unreviewed"] as const).map((k) =>
              s[k] > 0 ? (
                <span
                  key={k}
                  className={`seg-review-${k}`}
                  style={{ flexGrow: s[k] }}
                  title={`${k}: ${s[k]}`}
                />
              ) : null,
            )}
          </div>
          <p className="count-chips" data-testid="review-counts">
            <span className="badge review-approved">approved {s.approved}</span>{" "}
            <span className="badge review-corrected">corrected {s.corrected}</span>{" "}
            <span className="badge review-rejected">rejected {s.rejected}</span>{" "}
            <span className="badge">unreviewed {s.unreviewed}</span>{" "}
            <span className="muted">of {total} masks</span>
          </p>
          <p>
            Corrections: <strong>{s.corrections}</strong>, mean IoU to the original{" "}
            <strong>{s.meanCorrectionIou === null ? "–" : s.meanCorrectionIou.toFixed(3)}</strong>, above 0.9:{" "}
            <strong data-testid="review-good-share">{pct(s.shareAboveGoodIou)}</strong>
          </p>
          {s.corrections > 0 ? (
            <div className="histogram" role="img" aria-label="IoU of corrected masks against their originals">
              {s.histogram.map((b) => (
                <div
                  key={b.from}
                  className="histogram-bin"
                  title={`${b.from.toFixed(1)}–${b.to.toFixed(1)}: ${b.count}`}
                >
                  <span style={{ height: `${(100 * b.count) / maxBin}%` }} />
                  <small>{b.from.toFixed(1)}</small>
                </div>
              ))}
            </div>
          ) : null}
        </>
      ) : (
        <p className="lead">Loading…</p>
      )}
      <h3>Waiting for review</h3>
      {queue.data && queue.data.length === 0 ? <p className="muted">Nothing waits for review.</p> : null}
      <ul className="review-queue" data-testid="review-queue">
        {queue.data?.map((row) => (
          <li key={row.imageId}>
            <Link href={`/annotate/${row.imageId}`}>{row.filename}</Link>{" "}
            <span className="muted">
              {row.unreviewed} mask{row.unreviewed === 1 ? "" : "s"}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
