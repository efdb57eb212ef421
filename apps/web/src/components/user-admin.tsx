"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc/client";

const roles = ["annotator", "manager", "admin"] as const;
type Role = (typeof roles)[number];

/** Something a person can read: the schema's own messages for bad input, else the server's message. */
export function describeError(error: {
  message: string;
  data?: { zodError?: readonly { message: string }[] | null } | null;
}): string {
  const issues = error.data?.zodError;
  if (issues && issues.length > 0) return issues.map((issue) => issue.message).join("; ");
  return error.message;
}

function CreateUserForm({ onCreated }: { onCreated: () => void }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.users.create.mutationOptions());
  const [created, setCreated] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setCreated(null);
    try {
      const user = await create.mutateAsync({
        email: String(form.get("email") ?? ""),
        name: String(form.get("name") ?? ""),
        role: String(form.get("role") ?? "annotator") as Role,
        password: String(form.get("password") ?? ""),
      });
      setCreated(`Created ${user.name} (${user.email}) as ${user.role}.`);
      formElement.reset();
      onCreated();
    } catch {
      // Shown from create.error below.
    }
  }

  return (
    <section className="card" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create a user</h2>
      <form className="form" onSubmit={onSubmit} data-testid="create-user-form">
        <label>
          Email
          <input name="email" type="email" autoComplete="off" required data-testid="create-user-email" />
        </label>
        <label>
          Name
          <input name="name" type="text" autoComplete="off" required data-testid="create-user-name" />
        </label>
        <label>
          Role
          <select name="role" defaultValue="annotator" data-testid="create-user-role">
            {roles.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={10}
            required
            data-testid="create-user-password"
          />
        </label>
        <p className="lead">At least 10 characters. Tell the person their password; they sign in with it.</p>
        {create.error ? (
          <p role="alert" className="error" data-testid="create-user-error">
            {describeError(create.error)}
          </p>
        ) : null}
        {created ? (
          <p role="status" className="success" data-testid="create-user-success">
            {created}
          </p>
        ) : null}
        <button type="submit" disabled={create.isPending} data-testid="create-user-submit">
          {create.isPending ? "Creating…" : "Create user"}
        </button>
      </form>
    </section>
  );
}

/** The admins' user table: role, activate/deactivate (which signs the user out), and account creation. */
export function UserAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.me.get.queryOptions());
  const users = useQuery(trpc.users.list.queryOptions());
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const [rowError, setRowError] = useState<string | null>(null);
  // Deactivating signs someone out everywhere: the button asks first (the user whose answer is awaited).
  const [confirming, setConfirming] = useState<string | null>(null);
  const setRole = useMutation(
    trpc.users.setRole.mutationOptions({
      onMutate: () => setRowError(null),
      onError: (error) => setRowError(describeError(error)),
      onSettled: invalidate,
    }),
  );
  const setActive = useMutation(
    trpc.users.setActive.mutationOptions({
      onMutate: () => setRowError(null),
      onError: (error) => setRowError(describeError(error)),
      onSettled: invalidate,
    }),
  );

  if (users.error) {
    return (
      <p role="alert" className="error" data-testid="user-admin-error">
        {users.error.data?.code === "FORBIDDEN" ? "Only admins can manage users." : users.error.message}
      </p>
    );
  }
  const busy = setRole.isPending || setActive.isPending;

  return (
    <>
      <CreateUserForm onCreated={invalidate} />
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        {rowError ? (
          <p role="alert" className="error" data-testid="user-action-error">
            {rowError}
          </p>
        ) : null}
        {users.isPending ? <p className="lead">Loading…</p> : null}
        <table className="data-table" data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Projects</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((user) => {
              const self = user.id === me.data?.id;
              return (
                <tr
                  key={user.id}
                  data-testid="user-row"
                  data-user-id={user.id}
                  data-email={user.email}
                  data-role={user.role}
                  data-active={user.active ? "true" : "false"}
                >
                  <td>
                    {user.name}
                    {self ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td>{user.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${user.email}`}
                      data-testid="user-role-select"
                      value={user.role}
                      disabled={self || busy}
                      title={self ? "You cannot change your own role" : undefined}
                      onChange={(event) =>
                        setRole.mutate({ userId: user.id, role: event.currentTarget.value as Role })
                      }
                    >
                      {roles.map((role) => (
                        <option key={role} value={role}>
                          {role}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <span
                      className={`badge ${user.active ? "badge-ready" : "badge-failed"}`}
                      data-testid="user-status"
                    >
                      {user.active ? "active" : "deactivated"}
                    </span>
                  </td>
                  <td data-testid="user-project-count">{user.projectCount}</td>
                  <td>{user.createdAt.toLocaleDateString()}</td>
                  <td>
                    {confirming === user.id ? (
                      <span className="row" role="alertdialog" aria-label={`Deactivate ${user.email}?`}>
                        <span>Sign {user.name || user.email} out and deactivate?</span>
                        <button
                          type="button"
                          className="danger"
                          data-testid="user-deactivate-confirm"
                          disabled={busy}
                          onClick={() => {
                            setConfirming(null);
                            setActive.mutate({ userId: user.id, active: false });
                          }}
                        >
                          Deactivate
                        </button>
                        <button
                          type="button"
                          className="link"
                          data-testid="user-deactivate-cancel"
                          onClick={() => setConfirming(null)}
                        >
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="secondary"
                        data-testid="user-toggle-active"
                        aria-label={`${user.active ? "Deactivate" : "Reactivate"} ${user.email}`}
                        disabled={self || busy}
                        title={self ? "You cannot deactivate your own account" : undefined}
                        onClick={() =>
                          user.active
                            ? setConfirming(user.id)
                            : setActive.mutate({ userId: user.id, active: true })
                        }
                      >
                        {user.active ? "Deactivate" : "Reactivate"}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="lead">Deactivating signs the person out everywhere at once; their work stays.</p>
      </section>
    </>
  );
}
