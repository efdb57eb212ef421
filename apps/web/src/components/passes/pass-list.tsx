"use client";

import type { RouterOutputs } from "@sas/api";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../trpc/client";
import { formatSeconds, isActive, stageNames } from "./pass-params";

export type PassSummary = RouterOutputs["pass"]["list"][number];

/** While any pass is queued or running, the list refreshes this often. */
export const ACTIVE_REFRESH_MS = 2000;

/** Images done of total as a bar, with masks found and the time left; failed images in red. */
export function PassProgress({ pass }: { pass: PassSummary }) {
  const total = Math.max(1, pass.totalItems);
  return (
    <div className="pass-progress">
      <div
        className="stacked-bar"
        role="progressbar"
        aria-label={`Pass progress: ${pass.doneItems} of ${pass.totalItems} images`}
        aria-valuemin={0}
        aria-valuemax={pass.totalItems}
        aria-valuenow={pass.doneItems}
        data-testid="pass-progress"
        data-done={pass.doneItems}
        data-total={pass.totalItems}
      >
        {pass.doneItems - pass.failedItems > 0 ? (
          <span
            className="seg-completed"
            style={{ width: `${(100 * (pass.doneItems - pass.failedItems)) / total}%` }}
          />
        ) : null}
        {pass.failedItems > 0 ? (
          <span className="seg-failed" style={{ width: `${(100 * pass.failedItems) / total}%` }} />
        ) : null}
      </div>
      <p className="pass-figures">
        <span data-testid="pass-images">
          {pass.doneItems} / {pass.totalItems} images
        </span>
        <span data-testid="pass-masks">{pass.resultCount} masks</span>
        {pass.failedItems > 0 ? <span className="bad">{pass.failedItems} failed</span> : null}
        {isActive(pass.status) ? (
          <span data-testid="pass-eta">ETA {formatSeconds(pass.etaSeconds)}</span>
        ) : null}
      </p>
    </div>
  );
}

export function StatusBadge({ status }: { status: PassSummary["status"] }) {
  return (
    <span className={`badge pass-status-${status}`} data-testid="pass-status">
      {status}
    </span>
  );
}

/** Every pass (or one project's), newest first, with progress and Cancel while one is active. */
export function PassList({ projectId }: { projectId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = projectId ? { projectId } : {};
  const passes = useQuery({
    ...trpc.pass.list.queryOptions(input),
    refetchInterval: (query) =>
      query.state.data?.some((p) => isActive(p.status)) ? ACTIVE_REFRESH_MS : false,
  });
  const cancel = useMutation(
    trpc.pass.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.pass.list.queryKey() }),
    }),
  );

  return (
    <section className="card" aria-labelledby="passes-title" data-testid="pass-list">
      <h2 id="passes-title">Passes</h2>
      {passes.error ? (
        <p role="alert" className="error">
          {passes.error.message}
        </p>
      ) : null}
      {passes.data?.length === 0 ? <p className="muted">No passes yet.</p> : null}
      {cancel.error ? (
        <p role="alert" className="error">
          {cancel.error.message}
        </p>
      ) : null}
      <ul className="pass-list">
        {passes.data?.map((pass) => (
          <li key={pass.id} data-testid="pass-row" data-pass-id={pass.id} data-status={pass.status}>
            <div className="pass-head">
              <Link href={`/admin/passes/${pass.id}`} data-testid="pass-link">
                {pass.projectName} · {stageNames[pass.stage]}
              </Link>
              <StatusBadge status={pass.status} />
              <span className="muted">
                {pass.createdAt.toLocaleString()}
                {pass.createdByName ? ` · ${pass.createdByName}` : ""}
                {pass.modelVersionName ? ` · ${pass.modelVersionName}` : ""}
              </span>
              {isActive(pass.status) ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => cancel.mutate({ id: pass.id })}
                  disabled={cancel.isPending && cancel.variables?.id === pass.id}
                  data-testid="pass-cancel"
                >
                  Cancel
                </button>
              ) : null}
            </div>
            <PassProgress pass={pass} />
            {pass.error ? <p className="error">{pass.error}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
