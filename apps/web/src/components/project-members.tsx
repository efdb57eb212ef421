"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useTRPC } from "../trpc/client";
import { describeError } from "./user-admin";

const projectRoles = ["annotator", "reviewer", "manager"] as const;
type ProjectRole = (typeof projectRoles)[number];

/** Waits until typing pauses before searching. */
function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** The project managers' members panel: who is in, with which role; add by email, change role, remove. */
export function ProjectMembers({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.project.members.queryOptions({ projectId }));
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ProjectRole>("annotator");
  const [added, setAdded] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const query = useDebounced(email.trim(), 250);
  const suggestions = useQuery({
    ...trpc.users.search.queryOptions({ projectId, query }),
    enabled: query.length >= 2,
  });

  const invalidate = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.project.members.queryKey({ projectId }) }),
      queryClient.invalidateQueries({ queryKey: trpc.work.assignments.queryKey({ projectId }) }),
      queryClient.invalidateQueries({ queryKey: trpc.users.search.queryKey() }),
    ]);
  const add = useMutation(trpc.project.addMember.mutationOptions({ onSettled: invalidate }));
  const rowOptions = {
    onMutate: () => setRowError(null),
    onError: (error: Parameters<typeof describeError>[0]) => setRowError(describeError(error)),
    onSettled: invalidate,
  };
  const setMemberRole = useMutation(trpc.project.setMemberRole.mutationOptions(rowOptions));
  const remove = useMutation(trpc.project.removeMember.mutationOptions(rowOptions));
  const busy = setMemberRole.isPending || remove.isPending;

  async function onAdd(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setAdded(null);
    try {
      const member = await add.mutateAsync({ projectId, email: email.trim(), role });
      setAdded(`Added ${member.name} as ${member.role}.`);
      setEmail("");
    } catch {
      // Shown from add.error below.
    }
  }

  return (
    <section className="card" aria-labelledby="members-title" data-testid="members-panel">
      <h2 id="members-title">Members</h2>
      {members.error ? (
        <p role="alert" className="error">
          {members.error.message}
        </p>
      ) : null}
      <table className="data-table" data-testid="members-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Project role</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {members.data?.map((member) => (
            <tr
              key={member.userId}
              data-testid="member-row"
              data-user-id={member.userId}
              data-email={member.email}
              data-role={member.role}
            >
              <td>
                {member.name}
                {member.active ? null : <span className="badge badge-failed"> deactivated</span>}
              </td>
              <td>{member.email}</td>
              <td>
                <select
                  aria-label={`Project role of ${member.email}`}
                  data-testid="member-role-select"
                  value={member.role}
                  disabled={busy}
                  onChange={(event) =>
                    setMemberRole.mutate({
                      projectId,
                      userId: member.userId,
                      role: event.currentTarget.value as ProjectRole,
                    })
                  }
                >
                  {projectRoles.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <button
                  type="button"
                  className="secondary"
                  data-testid="member-remove"
                  aria-label={`Remove ${member.email}`}
                  disabled={busy}
                  onClick={() => remove.mutate({ projectId, userId: member.userId })}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rowError ? (
        <p role="alert" className="error" data-testid="member-action-error">
          {rowError}
        </p>
      ) : null}

      <h3>Add a member</h3>
      <form className="inline-form" onSubmit={onAdd} data-testid="add-member-form">
        <label>
          Email
          <input
            type="email"
            required
            autoComplete="off"
            list="member-suggestions"
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value)}
            data-testid="add-member-email"
          />
        </label>
        <datalist id="member-suggestions">
          {(query.length >= 2 ? (suggestions.data ?? []) : []).map((user) => (
            <option key={user.id} value={user.email}>
              {user.name}
            </option>
          ))}
        </datalist>
        <label>
          Role
          <select
            value={role}
            onChange={(event) => setRole(event.currentTarget.value as ProjectRole)}
            data-testid="add-member-role"
          >
            {projectRoles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={add.isPending} data-testid="add-member-submit">
          {add.isPending ? "Adding…" : "Add member"}
        </button>
      </form>
      {add.error ? (
        <p role="alert" className="error" data-testid="add-member-error">
          {describeError(add.error)}
        </p>
      ) : null}
      {added && !add.error ? (
        <p role="status" className="success" data-testid="add-member-success">
          {added}
        </p>
      ) : null}
    </section>
  );
}
