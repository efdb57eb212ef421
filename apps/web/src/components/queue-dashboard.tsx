"use client";

import type { RouterOutputs } from "@sas/api";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "../trpc/client";

type Overview = RouterOutputs["admin"]["queues"][number];
type State = keyof Overview["counts"];
type Job = RouterOutputs["admin"]["jobs"][number];

/** States with a colour each, in the order a job moves through them. */
const states: { key: State; colour: string }[] = [
  { key: "active", colour: "#2563eb" },
  { key: "waiting", colour: "#0891b2" },
  { key: "prioritized", colour: "#7c3aed" },
  { key: "waiting-children", colour: "#a855f7" },
  { key: "delayed", colour: "#f59e0b" },
  { key: "paused", colour: "#6b7280" },
  { key: "failed", colour: "#dc2626" },
  { key: "completed", colour: "#16a34a" },
];

const when = (value: Date | null) => (value ? new Date(value).toLocaleString() : "–");

/** A queue's jobs in one state, with Retry (failed jobs) and Remove (any job not running). */
function JobTable({
  queue,
  state,
  jobs,
  onRetry,
  onRemove,
  busy,
}: {
  queue: string;
  state: State;
  jobs: Job[];
  onRetry: (jobId: string) => void;
  onRemove: (jobId: string) => void;
  busy: boolean;
}) {
  if (!jobs.length) return <p className="muted">No {state} jobs.</p>;
  return (
    <table className="jobs" data-testid={`jobs-${queue}-${state}`}>
      <thead>
        <tr>
          <th>job</th>
          <th>data</th>
          <th>attempts</th>
          <th>{state === "failed" ? "failed" : "created"}</th>
          {state === "failed" ? <th>error</th> : null}
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr key={job.id} data-testid="job-row">
            <td title={job.id}>
              {job.name} <span className="muted">#{job.id}</span>
            </td>
            <td>
              <code>{job.data}</code>
            </td>
            <td>{job.attempts}</td>
            <td>{when(state === "failed" ? job.finishedAt : job.createdAt)}</td>
            {state === "failed" ? (
              <td>
                <strong data-testid="job-error">{job.error}</strong>
                {job.stack ? (
                  <details>
                    <summary>stack</summary>
                    <pre>{job.stack}</pre>
                  </details>
                ) : null}
              </td>
            ) : null}
            <td>
              {state === "failed" ? (
                <button type="button" className="link" disabled={busy} onClick={() => onRetry(job.id)}>
                  Retry
                </button>
              ) : null}
              {state !== "active" ? (
                <button
                  type="button"
                  className="link"
                  disabled={busy}
                  onClick={() => {
                    if (
                      window.confirm(
                        `Remove job ${job.name} #${job.id} from ${queue}? This cannot be undone.`,
                      )
                    ) {
                      onRemove(job.id);
                    }
                  }}
                >
                  Remove
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function QueueCard({ overview }: { overview: Overview }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<State>("failed");
  const jobs = useQuery({
    ...trpc.admin.jobs.queryOptions({ queue: overview.name, state }),
    refetchInterval: 3000,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.pathKey() });
  const retry = useMutation(trpc.admin.retryFailed.mutationOptions({ onSettled: refresh }));
  const remove = useMutation(trpc.admin.removeJob.mutationOptions({ onSettled: refresh }));
  const error = retry.error ?? remove.error;
  return (
    <section className="card" data-testid={`queue-${overview.name}`}>
      <h2>
        {overview.name} {overview.paused ? <span className="badge">paused</span> : null}
      </h2>
      <ul className="legend" aria-label={`${overview.name} jobs by state`}>
        {states.map((s) => (
          <li key={s.key} data-testid={`count-${overview.name}-${s.key}`}>
            <button
              type="button"
              className="link"
              aria-pressed={state === s.key}
              onClick={() => setState(s.key)}
              style={{ fontWeight: state === s.key ? 700 : 400 }}
            >
              {s.key} {overview.counts[s.key]}
            </button>
          </li>
        ))}
      </ul>
      {overview.counts.failed ? (
        <button
          type="button"
          onClick={() => retry.mutate({ queue: overview.name })}
          disabled={retry.isPending}
        >
          Retry all {overview.counts.failed} failed
        </button>
      ) : null}
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      <h3>{state} jobs</h3>
      {jobs.data ? (
        <JobTable
          queue={overview.name}
          state={state}
          jobs={jobs.data}
          busy={retry.isPending || remove.isPending}
          onRetry={(jobId) => retry.mutate({ queue: overview.name, jobId })}
          onRemove={(jobId) => remove.mutate({ queue: overview.name, jobId })}
        />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  );
}

/** Every BullMQ queue: jobs per state (chart and counts), failures with their errors, retry and remove. */
export function QueueDashboard() {
  const trpc = useTRPC();
  const queues = useQuery({ ...trpc.admin.queues.queryOptions(), refetchInterval: 3000 });
  if (queues.error) {
    return (
      <p role="alert" className="error">
        {queues.error.message}
      </p>
    );
  }
  if (!queues.data) return <p className="muted">Loading…</p>;
  const chart = queues.data.map((q) => ({ name: q.name, ...q.counts }));
  return (
    <>
      <section className="card" aria-label="Jobs per queue and state" data-testid="queue-chart">
        <ResponsiveContainer width="100%" height={220}>
          <BarChart data={chart} layout="vertical">
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="name" width={80} />
            <Tooltip />
            <Legend />
            {states.map((s) => (
              <Bar key={s.key} dataKey={s.key} stackId="jobs" fill={s.colour} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </section>
      {queues.data.map((q) => (
        <QueueCard key={q.name} overview={q} />
      ))}
    </>
  );
}
