"use client";

/**
 * The audit log for admins (every project, or one) and project managers (their projects): who did what,
 * newest first, filtered by project, user and action, a page at a time.
 */
import type { RouterInputs } from "@sas/api";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "../trpc/client";

type Action = NonNullable<RouterInputs["audit"]["all"]["action"]>;
/** The actions worth filtering by, in the order people look for them (the server accepts each). */
const ACTIONS = [
  "image.submitted",
  "image.skipped",
  "image.reopened",
  "image.state_changed",
  "assignment.reassigned",
  "mask.reviewed",
  "mask.deleted",
  "mask.restored",
  "mask.change_refused",
  "project.created",
  "project.member_added",
  "project.member_role_changed",
  "project.member_removed",
  "user.created",
  "user.role_changed",
  "user.deactivated",
  "user.reactivated",
  "pass.started",
  "pass.cancelled",
  "export.created",
] as const satisfies readonly Action[];

type Cursor = { createdAt: Date; id: string } | null;

/** A short human line for an entry's details (the JSON stays available on hover). */
function describeDetails(details: unknown): string {
  if (!details || typeof details !== "object") return "";
  const d = details as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ["reason", "decision", "from", "to", "attempt", "empty", "masks"] as const) {
    if (d[key] !== undefined && d[key] !== null && d[key] !== "") parts.push(`${key}: ${String(d[key])}`);
  }
  return parts.join(" · ");
}

export function AuditView({
  initialProjectId,
  isAdmin,
}: {
  initialProjectId: string | null;
  isAdmin: boolean;
}) {
  const trpc = useTRPC();
  const projects = useQuery(trpc.project.list.queryOptions());
  const managed = (projects.data ?? []).filter((p) => p.role === "admin" || p.role === "manager");
  const [projectId, setProjectId] = useState<string>(initialProjectId ?? "");
  const [actorId, setActorId] = useState("");
  const [action, setAction] = useState<"" | Action>("");
  const [cursors, setCursors] = useState<Cursor[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  // Managers always look at one project; admins may look at all.
  const effectiveProject = projectId || (isAdmin ? "" : (managed[0]?.id ?? ""));
  const filters = { actorId: actorId || null, action: action || null, cursor };
  const projectLog = useQuery({
    ...trpc.audit.project.queryOptions({ projectId: effectiveProject, ...filters }),
    enabled: !!effectiveProject,
    placeholderData: keepPreviousData,
  });
  const allLog = useQuery({
    ...trpc.audit.all.queryOptions(filters),
    enabled: isAdmin && !effectiveProject,
    placeholderData: keepPreviousData,
  });
  const log = effectiveProject ? projectLog : allLog;
  const members = useQuery({
    ...trpc.project.members.queryOptions({ projectId: effectiveProject }),
    enabled: !!effectiveProject,
  });
  const reset = () => setCursors([null]);

  if (projects.data && !isAdmin && managed.length === 0) {
    return <p className="lead">The audit log is for admins and the managers of a project.</p>;
  }
  return (
    <section className="card" aria-labelledby="audit-title" data-testid="audit-view">
      <h2 id="audit-title">Audit log</h2>
      <div className="inline-form">
        <label>
          Project
          <select
            value={effectiveProject}
            onChange={(e) => {
              setProjectId(e.target.value);
              setActorId("");
              reset();
            }}
            data-testid="audit-project"
          >
            {isAdmin ? <option value="">all projects</option> : null}
            {managed.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          User
          <select
            value={actorId}
            onChange={(e) => {
              setActorId(e.target.value);
              reset();
            }}
            disabled={!effectiveProject}
            data-testid="audit-user"
          >
            <option value="">anyone</option>
            {members.data?.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <select
            value={action}
            onChange={(e) => {
              setAction(e.target.value as "" | Action);
              reset();
            }}
            data-testid="audit-action"
          >
            <option value="">any</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
      </div>
      {log.error ? (
        <p role="alert" className="error">
          {log.error.message}
        </p>
      ) : null}
      <table className="data-table" data-testid="audit-rows">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">What</th>
            <th scope="col">Project</th>
          </tr>
        </thead>
        <tbody>
          {log.data?.items.map((row) => (
            <tr key={row.id} data-testid="audit-row" data-action={row.action}>
              <td>
                <time dateTime={row.createdAt.toISOString()}>{row.createdAt.toLocaleString()}</time>
              </td>
              <td title={row.actorEmail ?? undefined}>
                {row.actorName ?? <span className="muted">system</span>}
              </td>
              <td>
                <code>{row.action}</code>
              </td>
              <td title={JSON.stringify(row.details)} data-testid="audit-details">
                {row.targetType === "image" || row.targetType === "mask" ? (
                  <span className="muted">{row.targetType} </span>
                ) : null}
                {describeDetails(row.details)}
              </td>
              <td>
                {row.projectId ? (
                  <Link href={`/projects/${row.projectId}`}>{row.projectName ?? "project"}</Link>
                ) : (
                  <span className="muted">–</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log.data && log.data.items.length === 0 ? <p className="lead">No entries match.</p> : null}
      <p className="row">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!log.data?.nextCursor}
          onClick={() => {
            const next = log.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older →
        </button>
      </p>
    </section>
  );
}
