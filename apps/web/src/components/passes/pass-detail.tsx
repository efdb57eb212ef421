"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../trpc/client";
import { ACTIVE_REFRESH_MS, PassProgress, StatusBadge } from "./pass-list";
import { formatSeconds, isActive, PARAM_FIELDS, stageNames } from "./pass-params";

const pct = (share: number) => `${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`;

/**
 * How many proposals each filter stage left, as bars of their share of the candidates: where the pass's
 * masks were won and lost (the SAM generator's order: predicted IoU, stability, crop edges, NMS, ...).
 */
function FilterChart({ filters }: { filters: readonly { name: string; kept: number; share: number }[] }) {
  if (filters.length === 0) return <p className="muted">No filter counts yet.</p>;
  return (
    <table className="filter-chart" data-testid="pass-filter-chart">
      <tbody>
        {filters.map((f) => (
          <tr key={f.name} data-filter={f.name}>
            <th scope="row">{f.name}</th>
            <td className="filter-bar-cell">
              <div
                className="filter-bar"
                role="img"
                aria-label={`${f.name}: ${f.kept} kept, ${pct(f.share)}`}
              >
                <span style={{ width: `${Math.max(0.5, 100 * Math.min(1, f.share))}%` }} />
              </div>
            </td>
            <td className="num">{f.kept.toLocaleString()}</td>
            <td className="num muted">{pct(f.share)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One pass: progress, statistics, its parameters and every image with what it produced. */
export function PassDetail({ passId }: { passId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pass = useQuery({
    ...trpc.pass.get.queryOptions({ id: passId }),
    refetchInterval: (query) =>
      query.state.data && isActive(query.state.data.status) ? ACTIVE_REFRESH_MS : false,
  });
  const cancel = useMutation(
    trpc.pass.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.pass.pathKey() }),
    }),
  );

  if (pass.error) {
    return (
      <p role="alert" className="error">
        {pass.error.data?.code === "NOT_FOUND" ? "This pass does not exist." : pass.error.message}
      </p>
    );
  }
  const p = pass.data;
  if (!p) return <p className="lead">Loading…</p>;
  return (
    <>
      <header>
        <p>
          <Link href="/admin/passes">← Automatic passes</Link>
        </p>
        <h1>
          {stageNames[p.stage]} pass on{" "}
          <Link href={`/projects/${p.projectId}`} className="plain">
            {p.projectName}
          </Link>
        </h1>
        <p className="lead">
          Started {p.createdAt.toLocaleString()}
          {p.createdByName ? ` by ${p.createdByName}` : ""}
          {p.modelVersionName ? ` · model ${p.modelVersionName}` : ""}
        </p>
      </header>

      <section className="card" data-testid="pass-detail" data-status={p.status}>
        <div className="section-head">
          <h2>Progress</h2>
          <StatusBadge status={p.status} />
          {isActive(p.status) ? (
            <button
              type="button"
              className="secondary"
              onClick={() => cancel.mutate({ id: p.id })}
              disabled={cancel.isPending}
              data-testid="pass-cancel"
            >
              Cancel
            </button>
          ) : null}
        </div>
        <PassProgress pass={p} />
        {p.error ? <p className="error">{p.error}</p> : null}
      </section>

      <section className="card" aria-labelledby="stats-title">
        <h2 id="stats-title">Statistics</h2>
        <dl className="pass-stats">
          <div>
            <dt>Masks per image</dt>
            <dd data-testid="pass-masks-per-image">
              {p.stats.masksPerImage === null ? "–" : p.stats.masksPerImage.toFixed(1)}
            </dd>
          </div>
          <div>
            <dt>Seconds per image</dt>
            <dd data-testid="pass-seconds-per-image">{formatSeconds(p.stats.secondsPerImage)}</dd>
          </div>
          <div>
            <dt>Masks found</dt>
            <dd>{p.resultCount.toLocaleString()}</dd>
          </div>
        </dl>
        <h3>Share kept by each filter</h3>
        <FilterChart filters={p.stats.filters} />
      </section>

      <section className="card" aria-labelledby="images-title">
        <h2 id="images-title">Images</h2>
        <table className="data-table" data-testid="pass-images-table">
          <thead>
            <tr>
              <th>image</th>
              <th>status</th>
              <th className="num">masks</th>
              <th className="num">seconds</th>
            </tr>
          </thead>
          <tbody>
            {p.images.map((image) => (
              <tr key={image.imageId} data-testid="pass-image-row" data-status={image.status}>
                <td>
                  <Link href={`/annotate/${image.imageId}`} data-testid="pass-image-link">
                    {image.filename}
                  </Link>
                  {image.error ? <div className="error">{image.error}</div> : null}
                </td>
                <td>
                  <StatusBadge status={image.status} />
                </td>
                <td className="num">{image.masks}</td>
                <td className="num">{image.seconds === null ? "–" : image.seconds.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card" aria-labelledby="params-title">
        <h2 id="params-title">Parameters</h2>
        <table className="data-table" data-testid="pass-params">
          <tbody>
            {PARAM_FIELDS.map((f) => (
              <tr key={f.key}>
                <th scope="row" title={f.help}>
                  {f.label}
                </th>
                <td className="num">{Number(p.params[f.key].toFixed(6))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
