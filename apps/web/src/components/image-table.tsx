"use client";

/**
 * The project image table for managers and reviewers: every image with its workflow state, annotator,
 * mask count and time spent, filtered and sorted on the server and read a page at a time (keyset pages,
 * so it stays quick at 100k images). Managers select rows for bulk actions: assign, reopen, and (admins)
 * queue them for an automatic pass.
 */
import type { RouterInputs } from "@sas/api";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatDuration } from "../annotate/mask-list";
import { workflowStateNames } from "../annotate/workflow-bar";
import { useTRPC } from "../trpc/client";
import { describeError } from "./user-admin";

type TableInput = RouterInputs["image"]["table"];
type State = keyof typeof workflowStateNames;
const STATES = Object.keys(workflowStateNames) as State[];
const PAGE_SIZE = 50;

const outcomes = ["unreviewed", "approved", "rejected", "corrected"] as const;

export function ImageTable({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [states, setStates] = useState<State[]>([]);
  const [annotatorId, setAnnotatorId] = useState<string>("");
  const [hasMasks, setHasMasks] = useState<"" | "yes" | "no">("");
  const [reviewOutcome, setReviewOutcome] = useState<"" | (typeof outcomes)[number]>("");
  const [label, setLabel] = useState("");
  const [sort, setSort] = useState<NonNullable<TableInput["sort"]>>("created");
  const [direction, setDirection] = useState<"asc" | "desc">("asc");
  // Cursors of the pages before this one: "Previous" pops, "Next" pushes.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [assignee, setAssignee] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const filters = {
    projectId,
    states,
    annotatorId: annotatorId || null,
    hasMasks: hasMasks === "" ? null : hasMasks === "yes",
    reviewOutcome: reviewOutcome || null,
    label: label.trim() || null,
    sort,
    direction,
  };
  const cursor = cursors.at(-1) ?? null;
  const table = useQuery({
    ...trpc.image.table.queryOptions({ ...filters, cursor, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  // Later pages leave the count out (it is the costly part at 100k images): the first page's holds.
  const firstPage = useQuery({
    ...trpc.image.table.queryOptions({ ...filters, cursor: null, limit: PAGE_SIZE }),
    enabled: cursor !== null,
    staleTime: 60_000,
  });
  const total = cursor === null ? table.data?.total : firstPage.data?.total;
  const summary = useQuery(trpc.image.counts.queryOptions({ projectId }));
  const members = useQuery(trpc.project.members.queryOptions({ projectId }));
  const canManage = summary.data?.canUpload ?? false;
  const isAdmin = summary.data?.role === "admin";

  /** Any change of filter or order starts again from the first page, with nothing selected. */
  const refilter =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setCursors([null]);
      setSelected(new Set());
    };

  const after = {
    onMutate: () => {
      setError(null);
      setMessage(null);
    },
    onError: (e: Parameters<typeof describeError>[0]) => setError(describeError(e)),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.work.pathKey() });
    },
  };
  const bulkAssign = useMutation(trpc.work.bulkAssign.mutationOptions(after));
  const reopen = useMutation(trpc.work.reopen.mutationOptions(after));
  const pass = useMutation(trpc.pass.start.mutationOptions(after));
  const busy = bulkAssign.isPending || reopen.isPending || pass.isPending;

  const rows = table.data?.items ?? [];
  const imageIds = [...selected];
  const pageStart = (cursors.length - 1) * PAGE_SIZE;
  const toggle = (id: string) =>
    setSelected((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  async function run(action: () => Promise<string>) {
    try {
      setMessage(await action());
      setSelected(new Set());
    } catch {
      // Shown from `error`.
    }
  }

  return (
    <section className="card" aria-labelledby="image-table-title" data-testid="image-table">
      <h2 id="image-table-title">Images by workflow state</h2>
      <ul className="count-chips" aria-label="Filter by state">
        {STATES.map((state) => (
          <li key={state}>
            <button
              type="button"
              className={`badge workflow-${state}`}
              aria-pressed={states.includes(state)}
              data-testid={`state-filter-${state}`}
              onClick={() =>
                refilter(setStates)(
                  states.includes(state) ? states.filter((s) => s !== state) : [...states, state],
                )
              }
            >
              {workflowStateNames[state]} {table.data?.stateCounts[state] ?? "…"}
            </button>
          </li>
        ))}
      </ul>
      <div className="inline-form table-filters">
        <label>
          Annotator
          <select
            value={annotatorId}
            onChange={(e) => refilter(setAnnotatorId)(e.target.value)}
            data-testid="filter-annotator"
          >
            <option value="">anyone</option>
            <option value="none">nobody yet</option>
            {members.data?.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Masks
          <select
            value={hasMasks}
            onChange={(e) => refilter(setHasMasks)(e.target.value as typeof hasMasks)}
            data-testid="filter-has-masks"
          >
            <option value="">any</option>
            <option value="yes">with masks</option>
            <option value="no">without masks</option>
          </select>
        </label>
        <label>
          Review
          <select
            value={reviewOutcome}
            onChange={(e) => refilter(setReviewOutcome)(e.target.value as typeof reviewOutcome)}
            data-testid="filter-review"
          >
            <option value="">any</option>
            {outcomes.map((o) => (
              <option key={o} value={o}>
                has {o} masks
              </option>
            ))}
          </select>
        </label>
        <label>
          Label
          <input
            type="text"
            value={label}
            placeholder="exact label"
            maxLength={200}
            onChange={(e) => refilter(setLabel)(e.target.value)}
            data-testid="filter-label"
          />
        </label>
        <label>
          Sort
          <select
            value={`${sort}:${direction}`}
            onChange={(e) => {
              const [s, d] = e.target.value.split(":") as [typeof sort, "asc" | "desc"];
              setSort(s);
              refilter(setDirection)(d);
            }}
            data-testid="table-sort"
          >
            <option value="created:asc">oldest first</option>
            <option value="created:desc">newest first</option>
            <option value="filename:asc">name A–Z</option>
            <option value="filename:desc">name Z–A</option>
            <option value="updated:desc">state changed, latest first</option>
            <option value="updated:asc">state changed, earliest first</option>
          </select>
        </label>
      </div>

      {canManage ? (
        <div className="inline-form bulk-actions" data-testid="bulk-actions">
          <span>{selected.size} selected</span>
          <label>
            Assign to
            <select
              value={assignee}
              onChange={(e) => setAssignee(e.target.value)}
              data-testid="bulk-assignee"
            >
              <option value="">choose a member</option>
              {members.data
                ?.filter((m) => m.active)
                .map((m) => (
                  <option key={m.userId} value={m.userId}>
                    {m.name} ({m.role})
                  </option>
                ))}
            </select>
          </label>
          <button
            type="button"
            disabled={busy || selected.size === 0 || !assignee}
            data-testid="bulk-assign"
            onClick={() =>
              run(async () => {
                const { assigned } = await bulkAssign.mutateAsync({ projectId, imageIds, userId: assignee });
                return `${assigned} image${assigned === 1 ? "" : "s"} assigned.`;
              })
            }
          >
            Assign
          </button>
          <button
            type="button"
            className="secondary"
            disabled={busy || selected.size === 0}
            data-testid="bulk-reopen"
            onClick={() =>
              run(async () => {
                const { reopened } = await reopen.mutateAsync({ projectId, imageIds });
                return `${reopened.length} image${reopened.length === 1 ? "" : "s"} reopened.`;
              })
            }
          >
            Reopen
          </button>
          {isAdmin ? (
            <button
              type="button"
              className="secondary"
              disabled={busy || selected.size === 0}
              data-testid="bulk-pass"
              onClick={() =>
                run(async () => {
                  await pass.mutateAsync({ projectId, imageIds, stage: "semi_automatic" });
                  return `A semi-automatic pass is queued for ${imageIds.length} image${imageIds.length === 1 ? "" : "s"}.`;
                })
              }
            >
              Queue for a semi-automatic pass
            </button>
          ) : null}
        </div>
      ) : null}
      {message ? (
        <p role="status" className="success" data-testid="table-message">
          {message}
        </p>
      ) : null}
      {error || table.error ? (
        <p role="alert" className="error" data-testid="table-error">
          {error ?? table.error?.message}
        </p>
      ) : null}

      <table className="data-table image-table" data-testid="image-table-rows" aria-busy={table.isFetching}>
        <thead>
          <tr>
            {canManage ? (
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select this page"
                  checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
                  onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
                />
              </th>
            ) : null}
            <th scope="col">Image</th>
            <th scope="col">State</th>
            <th scope="col">Masks</th>
            <th scope="col">Annotator</th>
            <th scope="col">Time spent</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.id}
              data-testid="table-row"
              data-image-id={row.id}
              data-filename={row.filename}
              data-state={row.state}
            >
              {canManage ? (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${row.filename}`}
                    checked={selected.has(row.id)}
                    onChange={() => toggle(row.id)}
                    data-testid="row-select"
                  />
                </td>
              ) : null}
              <td className="thumb-cell">
                {/* biome-ignore lint/performance/noImgElement: thumbnails come from our own route, already sized. */}
                <img
                  src={`/api/images/${row.id}/file?variant=thumb`}
                  alt=""
                  loading="lazy"
                  width={48}
                  height={36}
                />
                {row.status === "ready" ? (
                  <Link href={`/annotate/${row.id}`}>{row.filename}</Link>
                ) : (
                  <span>
                    {row.filename} <small className="muted">({row.status})</small>
                  </span>
                )}
              </td>
              <td>
                <span className={`badge workflow-${row.state}`} data-testid="row-state">
                  {workflowStateNames[row.state]}
                </span>
                {row.skipReason ? (
                  <small className="muted" data-testid="row-skip-reason">
                    {" "}
                    {row.skipReason}
                  </small>
                ) : null}
              </td>
              <td data-testid="row-masks">{row.masks}</td>
              <td data-testid="row-annotator">{row.annotatorName ?? <span className="muted">–</span>}</td>
              <td>{row.activeMs > 0 ? formatDuration(row.activeMs) : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {table.data && rows.length === 0 ? <p className="lead">No image matches these filters.</p> : null}
      <p className="row" data-testid="table-pages">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length <= 1 || table.isFetching}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Previous
        </button>
        <span className="muted" data-testid="table-range">
          {table.data
            ? `${rows.length ? pageStart + 1 : 0}–${pageStart + rows.length} of ${total ?? "…"}`
            : "…"}
        </span>
        <button
          type="button"
          className="secondary"
          disabled={!table.data?.nextCursor || table.isFetching}
          data-testid="table-next"
          onClick={() => {
            const next = table.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Next →
        </button>
      </p>
    </section>
  );
}
