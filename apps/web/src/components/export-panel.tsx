"use client";

import type { RouterInputs, RouterOutputs } from "@sas/api";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc/client";

type ExportSummary = RouterOutputs["export"]["list"][number];
type StartInput = RouterInputs["export"]["start"];
type Filters = NonNullable<StartInput["filters"]>;

/** While an export is queued or running, the list refreshes this often. */
const ACTIVE_REFRESH_MS = 1500;

const isActive = (status: ExportSummary["status"]) => status === "queued" || status === "running";

const STAGES = [
  ["assisted_manual", "Assisted-manual"],
  ["semi_automatic", "Semi-automatic"],
  ["fully_automatic", "Fully automatic"],
] as const;

function formatBytes(bytes: number | null): string {
  if (bytes === null) return "";
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Images written of all as a bar (the export's Job row progress). */
function ExportProgress({ item }: { item: ExportSummary }) {
  const percent = Math.round(item.progress * 100);
  return (
    <div className="pass-progress">
      <div
        className="stacked-bar"
        role="progressbar"
        aria-label={`Export progress: ${item.imageCount} of ${item.totalImages} images`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="export-progress"
        data-progress={percent}
      >
        {percent > 0 ? <span className="seg-completed" style={{ width: `${percent}%` }} /> : null}
      </div>
      <p className="pass-figures">
        <span data-testid="export-images">
          {item.imageCount} / {item.totalImages} images
        </span>
        <span>{item.maskCount} masks</span>
        {item.sizeBytes !== null ? <span>{formatBytes(item.sizeBytes)}</span> : null}
      </p>
    </div>
  );
}

/**
 * SA-1B export of the project (managers and admins): filters and release options, Start, and every
 * export with its progress bar, Cancel while it runs, and download links for its shards, manifest, file
 * list and COCO JSON once done. Renders nothing for callers who may not export.
 */
export function ExportPanel({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const exports = useQuery({
    ...trpc.export.list.queryOptions({ projectId }),
    retry: false,
    refetchInterval: (query) =>
      query.state.data?.some((e) => isActive(e.status)) ? ACTIVE_REFRESH_MS : false,
  });
  const invalidate = () =>
    queryClient.invalidateQueries({ queryKey: trpc.export.list.queryKey({ projectId }) });
  const start = useMutation(trpc.export.start.mutationOptions({ onSettled: invalidate }));
  const cancel = useMutation(trpc.export.cancel.mutationOptions({ onSettled: invalidate }));

  const [sourcePreset, setSourcePreset] = useState<"all" | "automatic">("all");
  const [stages, setStages] = useState<Set<string>>(new Set());
  const [includeProposed, setIncludeProposed] = useState(false);
  const [reviewedOnly, setReviewedOnly] = useState(false);
  const [label, setLabel] = useState("");
  const [createdFrom, setCreatedFrom] = useState("");
  const [createdTo, setCreatedTo] = useState("");
  const [shortestSide, setShortestSide] = useState("");
  const [shardSize, setShardSize] = useState("1000");
  const [coco, setCoco] = useState(false);

  if (exports.error) {
    // Reviewers and annotators may not export: nothing to show them.
    const code = exports.error.data?.code;
    if (code === "FORBIDDEN" || code === "NOT_FOUND") return null;
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const filters: Filters = {
      sourcePreset,
      statuses: includeProposed ? ["accepted", "proposed"] : ["accepted"],
      reviewedOnly,
      ...(stages.size ? { stages: [...stages] as Filters["stages"] } : {}),
      ...(label.trim() ? { label: label.trim() } : {}),
      ...(createdFrom ? { createdFrom: new Date(`${createdFrom}T00:00:00`) } : {}),
      ...(createdTo ? { createdTo: new Date(`${createdTo}T23:59:59.999`) } : {}),
    };
    start.mutate({
      projectId,
      filters,
      options: {
        shardSize: Number(shardSize) || 1000,
        coco,
        ...(shortestSide ? { shortestSide: Number(shortestSide) } : {}),
      },
    });
  };

  const toggleStage = (stage: string) =>
    setStages((current) => {
      const next = new Set(current);
      if (next.has(stage)) next.delete(stage);
      else next.add(stage);
      return next;
    });

  return (
    <section className="card" aria-labelledby="export-title" data-testid="export-panel">
      <h2 id="export-title">Export (SA-1B)</h2>
      <form onSubmit={submit} className="export-form" data-testid="export-form">
        <fieldset>
          <legend>Masks</legend>
          <label>
            Sources{" "}
            <select
              value={sourcePreset}
              onChange={(e) => setSourcePreset(e.target.value as "all" | "automatic")}
              data-testid="export-sources"
            >
              <option value="all">All sources</option>
              <option value="automatic">Automatic only (as SA-1B released)</option>
            </select>
          </label>{" "}
          {STAGES.map(([value, name]) => (
            <label key={value}>
              <input
                type="checkbox"
                checked={stages.has(value)}
                onChange={() => toggleStage(value)}
                data-testid={`export-stage-${value}`}
              />{" "}
              {name}
            </label>
          ))}
          <br />
          <label>
            <input
              type="checkbox"
              checked={includeProposed}
              onChange={(e) => setIncludeProposed(e.target.checked)}
            />{" "}
            Include unreviewed proposals
          </label>{" "}
          <label>
            <input
              type="checkbox"
              checked={reviewedOnly}
              onChange={(e) => setReviewedOnly(e.target.checked)}
              data-testid="export-reviewed-only"
            />{" "}
            Reviewed only
          </label>
          <br />
          <label>
            Label{" "}
            <input value={label} onChange={(e) => setLabel(e.target.value)} data-testid="export-label" />
          </label>{" "}
          <label>
            Created from{" "}
            <input type="date" value={createdFrom} onChange={(e) => setCreatedFrom(e.target.value)} />
          </label>{" "}
          <label>
            to <input type="date" value={createdTo} onChange={(e) => setCreatedTo(e.target.value)} />
          </label>
        </fieldset>
        <fieldset>
          <legend>Release</legend>
          <label>
            Shortest side at most{" "}
            <input
              type="number"
              min={16}
              placeholder="original"
              value={shortestSide}
              onChange={(e) => setShortestSide(e.target.value)}
              data-testid="export-shortest-side"
            />{" "}
            px
          </label>{" "}
          <label>
            Images per shard{" "}
            <input
              type="number"
              min={1}
              value={shardSize}
              onChange={(e) => setShardSize(e.target.value)}
              data-testid="export-shard-size"
            />
          </label>{" "}
          <label>
            <input type="checkbox" checked={coco} onChange={(e) => setCoco(e.target.checked)} /> COCO JSON too
          </label>
        </fieldset>
        <button type="submit" disabled={start.isPending} data-testid="export-start">
          {start.isPending ? "Starting…" : "Start export"}
        </button>
        {start.error ? (
          <p role="alert" className="error">
            {start.error.message}
          </p>
        ) : null}
      </form>

      {exports.data && exports.data.length === 0 ? <p className="lead">No exports yet.</p> : null}
      <ul className="export-list" data-testid="export-list">
        {exports.data?.map((item) => (
          <li key={item.id} data-testid="export-item" data-status={item.status} data-export-id={item.id}>
            <p>
              <span className={`badge pass-status-${item.status}`} data-testid="export-status">
                {item.status}
              </span>{" "}
              {item.createdAt.toLocaleString()}
              {item.createdByName ? ` by ${item.createdByName}` : ""}
              {item.params.options.shortestSide
                ? ` · shortest side ${item.params.options.shortestSide}px`
                : ""}
              {item.params.filters.sourcePreset === "automatic" ? " · automatic only" : ""}
            </p>
            <ExportProgress item={item} />
            {item.error ? <p className="error">{item.error}</p> : null}
            {isActive(item.status) ? (
              <button
                type="button"
                onClick={() => cancel.mutate({ projectId, exportId: item.id })}
                disabled={cancel.isPending}
                data-testid="export-cancel"
              >
                Cancel
              </button>
            ) : null}
            {item.files.length ? (
              <ul className="export-files" data-testid="export-files">
                {item.files.map((name) => (
                  <li key={name}>
                    <a
                      href={`/api/exports/${item.id}/files/${name}`}
                      download={name}
                      data-testid="export-file"
                    >
                      {name}
                    </a>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
