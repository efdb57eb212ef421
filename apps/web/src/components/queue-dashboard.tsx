"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc/client";

const segments = [
  { key: "active", label: "active" },
  { key: "waiting", label: "waiting" },
  { key: "delayed", label: "delayed" },
  { key: "failed", label: "failed" },
  { key: "completed", label: "completed" },
] as const;

export function QueueDashboard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queues = useQuery({ ...trpc.admin.queues.queryOptions(), refetchInterval: 3000 });
  const retry = useMutation(
    trpc.admin.retryFailed.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.admin.queues.queryKey() }),
    }),
  );

  if (queues.error) {
    return (
      <p role="alert" className="error">
        {queues.error.message}
      </p>
    );
  }
  return (
    <>
      {queues.data?.map((q) => {
        const total = Math.max(
          1,
          segments.reduce((sum, s) => sum + q.counts[s.key], 0),
        );
        return (
          <section key={q.name} className="card" data-testid={`queue-${q.name}`}>
            <h2>{q.name}</h2>
            <div className="stacked-bar" role="img" aria-label={`${q.name} job counts`}>
              {segments.map((s) =>
                q.counts[s.key] ? (
                  <span
                    key={s.key}
                    className={`seg seg-${s.key}`}
                    style={{ width: `${(100 * q.counts[s.key]) / total}%` }}
                    title={`${s.label}: ${q.counts[s.key]}`}
                  />
                ) : null,
              )}
            </div>
            <ul className="legend">
              {segments.map((s) => (
                <li key={s.key} data-testid={`count-${q.name}-${s.key}`}>
                  <span className={`swatch seg-${s.key}`} aria-hidden /> {s.label} {q.counts[s.key]}
                </li>
              ))}
            </ul>
            {q.failed.length ? (
              <>
                <h3>Recent failures</h3>
                <button
                  type="button"
                  onClick={() => retry.mutate({ queue: q.name })}
                  disabled={retry.isPending}
                >
                  Retry all failed
                </button>
                <table className="jobs">
                  <thead>
                    <tr>
                      <th>job</th>
                      <th>reason</th>
                      <th>attempts</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {q.failed.map((job) => (
                      <tr key={job.id}>
                        <td title={job.id}>{job.name}</td>
                        <td>{job.reason}</td>
                        <td>{job.attempts}</td>
                        <td>
                          <button
                            type="button"
                            className="link"
                            onClick={() => retry.mutate({ queue: q.name, jobId: job.id })}
                          >
                            retry
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            ) : null}
          </section>
        );
      })}
    </>
  );
}
