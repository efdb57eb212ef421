"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { useTRPC } from "../trpc/client";
import { describeError } from "./user-admin";

/** Creates a project (the caller becomes its manager) and opens it. */
export function NewProjectForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const create = useMutation(trpc.project.create.mutationOptions());

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const project = await create.mutateAsync({
        name: String(form.get("name") ?? ""),
        description: String(form.get("description") ?? ""),
      });
      await queryClient.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
      router.push(`/projects/${project.id}`);
    } catch {
      // Shown from create.error below.
    }
  }

  return (
    <form className="card form" onSubmit={onSubmit} data-testid="new-project-form">
      <label>
        Name
        <input
          name="name"
          type="text"
          required
          maxLength={120}
          autoComplete="off"
          data-testid="new-project-name"
        />
      </label>
      <label>
        Description
        <textarea name="description" rows={3} maxLength={2000} data-testid="new-project-description" />
      </label>
      {create.error ? (
        <p role="alert" className="error" data-testid="new-project-error">
          {describeError(create.error)}
        </p>
      ) : null}
      <button type="submit" disabled={create.isPending} data-testid="new-project-submit">
        {create.isPending ? "Creating…" : "Create project"}
      </button>
    </form>
  );
}
