"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc/client";
import { describeError } from "./user-admin";

/** Leases change as annotators work; the panel follows them this often. */
const REFRESH_MS = 10_000;
/** While an image in the assign list still waits for its embedding, its label follows it this often. */
const PENDING_REFRESH_MS = 3000;

const time = (date: Date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/**
 * The project managers' assignments panel: who holds which image until when, reassigning or releasing a
 * lease, handing a waiting image to a member, and how many images each member has completed.
 */
export function ProjectAssignments({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const view = useQuery({
    ...trpc.work.assignments.queryOptions({ projectId }),
    // "(embedding)" labels must not outlive the embedding: poll faster while any image waits for one.
    refetchInterval: (query) =>
      query.state.data?.available.some((a) => a.status !== "ready") ? PENDING_REFRESH_MS : REFRESH_MS,
  });
  const members = useQuery(trpc.project.members.queryOptions({ projectId }));
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [targets, setTargets] = useState<Record<string, string>>({});
  const reassign = useMutation(
    trpc.work.reassign.mutationOptions({
      onMutate: () => {
        setError(null);
        setDone(null);
      },
      onError: (e) => setError(describeError(e)),
      onSettled: () =>
        queryClient.invalidateQueries({ queryKey: trpc.work.assignments.queryKey({ projectId }) }),
    }),
  );

  const candidates = (members.data ?? []).filter((m) => m.active);
  const nameOf = (userId: string | null) =>
    userId ? (candidates.find((m) => m.userId === userId)?.name ?? "a member") : null;

  async function onAssign(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const imageId = String(form.get("imageId") ?? "");
    const userId = String(form.get("userId") ?? "");
    if (!imageId || !userId) return;
    try {
      await reassign.mutateAsync({ imageId, userId });
      const filename = view.data?.available.find((a) => a.imageId === imageId)?.filename ?? "The image";
      setDone(`${filename} is assigned to ${nameOf(userId)}.`);
    } catch {
      // Shown from `error`.
    }
  }

  async function move(imageId: string, filename: string, userId: string | null) {
    try {
      await reassign.mutateAsync({ imageId, userId });
      setDone(userId ? `${filename} is now assigned to ${nameOf(userId)}.` : `${filename} is released.`);
    } catch {
      // Shown from `error`.
    }
  }

  const data = view.data;
  return (
    <section className="card" aria-labelledby="assignments-title" data-testid="assignments-panel">
      <h2 id="assignments-title">Assignments</h2>
      {view.error ? (
        <p role="alert" className="error">
          {view.error.message}
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="error" data-testid="assignment-error">
          {error}
        </p>
      ) : null}
      {done ? (
        <p role="status" className="success" data-testid="assignment-success">
          {done}
        </p>
      ) : null}

      <h3>Assign an image</h3>
      {data && data.available.length === 0 ? (
        <p className="lead" data-testid="no-available-images">
          Every image is assigned or done.
        </p>
      ) : (
        <form className="inline-form" onSubmit={onAssign} data-testid="assign-form">
          <label>
            Image
            <select name="imageId" required data-testid="assign-image">
              {data?.available.map((image) => (
                <option key={image.imageId} value={image.imageId}>
                  {image.filename}
                  {image.status === "ready"
                    ? ""
                    : ` (${image.status === "uploaded" ? "queued" : image.status})`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Member
            <select name="userId" required data-testid="assign-member">
              {candidates.map((member) => (
                <option key={member.userId} value={member.userId}>
                  {member.name} ({member.role})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={reassign.isPending || !data} data-testid="assign-submit">
            Assign
          </button>
        </form>
      )}

      <h3>Active leases</h3>
      {data && data.leases.length === 0 ? (
        <p className="lead" data-testid="no-leases">
          Nobody holds an image right now.
        </p>
      ) : (
        <table className="data-table" data-testid="leases-table">
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col">Held by</th>
              <th scope="col">Until</th>
              <th scope="col">Reassign</th>
            </tr>
          </thead>
          <tbody>
            {data?.leases.map((lease) => {
              const target =
                targets[lease.imageId] ?? candidates.find((m) => m.userId !== lease.userId)?.userId ?? "";
              return (
                <tr
                  key={lease.assignmentId}
                  data-testid="lease-row"
                  data-image-id={lease.imageId}
                  data-user-id={lease.userId}
                >
                  <td data-testid="lease-filename">{lease.filename}</td>
                  <td data-testid="lease-holder" title={lease.userEmail}>
                    {lease.userName}
                  </td>
                  <td>
                    {lease.expiresAt ? (
                      <time dateTime={lease.expiresAt.toISOString()}>{time(lease.expiresAt)}</time>
                    ) : (
                      <span data-testid="lease-until-released">released or submitted</span>
                    )}
                  </td>
                  <td>
                    <span className="row">
                      <select
                        aria-label={`New holder of ${lease.filename}`}
                        data-testid="lease-target"
                        value={target}
                        onChange={(event) => {
                          const value = event.currentTarget.value;
                          setTargets((previous) => ({ ...previous, [lease.imageId]: value }));
                        }}
                      >
                        {candidates.map((member) => (
                          <option key={member.userId} value={member.userId}>
                            {member.name}
                          </option>
                        ))}
                      </select>
                      <button
                        type="button"
                        data-testid="lease-reassign"
                        aria-label={`Reassign ${lease.filename}`}
                        disabled={reassign.isPending || !target || target === lease.userId}
                        onClick={() => move(lease.imageId, lease.filename, target)}
                      >
                        Reassign
                      </button>
                      <button
                        type="button"
                        className="secondary"
                        data-testid="lease-release"
                        aria-label={`Release ${lease.filename}`}
                        disabled={reassign.isPending}
                        onClick={() => move(lease.imageId, lease.filename, null)}
                      >
                        Release
                      </button>
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}

      <h3>Progress by member</h3>
      <table className="data-table" data-testid="progress-table">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Completed images</th>
            <th scope="col">Held now</th>
          </tr>
        </thead>
        <tbody>
          {data?.annotators.map((row) => (
            <tr key={row.userId} data-testid="progress-row" data-user-id={row.userId} data-email={row.email}>
              <td>{row.name}</td>
              <td>{row.role ?? <span className="muted">former member</span>}</td>
              <td data-testid="progress-completed">{row.completed}</td>
              <td data-testid="progress-leases">{row.activeLeases}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
