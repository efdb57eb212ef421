"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc/client";

function Row({
  name,
  ok,
  latencyMs,
}: {
  name: string;
  ok: boolean | undefined;
  latencyMs: number | null | undefined;
}) {
  const state = ok === undefined ? "checking" : ok ? "ok" : "unreachable";
  return (
    <li data-testid={`status-${name.toLowerCase()}`} data-state={state}>
      <span className={`dot dot-${state}`} aria-hidden />
      <span className="status-name">{name}</span>
      <span className="status-value">
        {state}
        {ok && latencyMs != null ? ` · ${latencyMs} ms` : ""}
      </span>
    </li>
  );
}

export function SystemStatus() {
  const trpc = useTRPC();
  const health = useQuery({ ...trpc.health.check.queryOptions(), refetchInterval: 10_000 });
  return (
    <section className="card" aria-labelledby="status-title">
      <h2 id="status-title">System status</h2>
      {health.error ? <p role="alert">The server did not answer: {health.error.message}</p> : null}
      <ul className="status-list">
        <Row name="Database" ok={health.data?.database.ok} latencyMs={health.data?.database.latencyMs} />
        <Row name="Redis" ok={health.data?.redis.ok} latencyMs={health.data?.redis.latencyMs} />
      </ul>
    </section>
  );
}
