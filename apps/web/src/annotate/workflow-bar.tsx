"use client";

/**
 * Where the image on screen is in the team workflow, and the explicit moves: Submit (an image with no
 * mask only after "nothing to label" is confirmed), Skip with a reason, and, for managers, Reopen.
 * "Next image" only moves on; handing an image in happens here.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useTRPC } from "../trpc/client";

export const workflowStateNames = {
  new: "new",
  in_progress: "in progress",
  submitted: "submitted",
  in_review: "in review",
  needs_changes: "needs changes",
  done: "done",
  skipped: "skipped",
} as const;

const OPEN = new Set(["new", "in_progress", "needs_changes"]);

export function WorkflowBar({
  imageId,
  maskCount,
  saving,
}: {
  imageId: string;
  maskCount: number;
  /** Writes of this image still in the outbox: the server must have them before the image is handed in. */
  saving: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const state = useQuery({ ...trpc.work.state.queryOptions({ imageId }), refetchInterval: 15_000 });
  // Reviews and fixes move the image on by themselves: follow the image's masks (the annotation screen's
  // own query, refreshed on every save and on everyone's live changes) and ask again when they change.
  const page = useQuery({ ...trpc.annotate.image.queryOptions({ imageId }), staleTime: 30_000 });
  const masksKey = (page.data?.masks ?? []).map((m) => `${m.id}:${m.version}:${m.status}`).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: refetch exactly when the masks change
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: trpc.work.state.queryKey({ imageId }) });
  }, [masksKey]);
  const [mode, setMode] = useState<"idle" | "confirm-empty" | "skip">("idle");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const settle = {
    onMutate: () => setError(null),
    onError: (e: { message: string }) => setError(e.message),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: trpc.work.state.queryKey({ imageId }) });
      void queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
    },
  };
  const submit = useMutation(trpc.work.submit.mutationOptions(settle));
  const skip = useMutation(trpc.work.skip.mutationOptions(settle));
  const reopen = useMutation(trpc.work.reopen.mutationOptions(settle));
  const busy = submit.isPending || skip.isPending || reopen.isPending;

  const s = state.data;
  if (!s) return null;
  // Submit and Skip for whoever may hand the image in (its annotator, managers); reviewers only look.
  const open = OPEN.has(s.state) && s.mayMove;

  async function onSubmit(confirmEmpty: boolean) {
    try {
      const result = await submit.mutateAsync({ imageId, confirmEmpty });
      setMode("idle");
      setDone(
        result.state === "done"
          ? "Submitted with nothing to label. Press N for the next image."
          : "Submitted for review. Press N for the next image.",
      );
    } catch {
      // Shown from `error`.
    }
  }

  async function onSkip(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!reason.trim()) return;
    try {
      await skip.mutateAsync({ imageId, reason: reason.trim() });
      setMode("idle");
      setReason("");
      setDone("Skipped. Press N for the next image.");
    } catch {
      // Shown from `error`.
    }
  }

  return (
    <section className="workflow-bar" aria-label="Workflow" data-testid="workflow-bar" data-state={s.state}>
      <span className={`badge workflow-${s.state}`} data-testid="workflow-state">
        {workflowStateNames[s.state]}
      </span>
      {s.state === "skipped" && s.skipReason ? (
        <span className="muted" data-testid="workflow-skip-reason">
          {" "}
          · {s.skipReason}
        </span>
      ) : null}
      {s.annotatorName ? <span className="muted"> · {s.annotatorName}</span> : null}
      {s.rejectedMasks > 0 ? (
        <span className="bad" data-testid="workflow-rejected">
          {" "}
          · {s.rejectedMasks} rejected mask{s.rejectedMasks === 1 ? "" : "s"} to fix
        </span>
      ) : null}
      {open && mode === "idle" ? (
        <span className="row">
          <button
            type="button"
            data-testid="workflow-submit"
            disabled={busy || saving}
            title={saving ? "Waiting for your changes to be saved" : undefined}
            // The page's list or the server's count: either one knowing of a mask means it is not empty
            // (the list is briefly empty between a save's acknowledgement and its refetch).
            onClick={() =>
              maskCount === 0 && s.masks === 0 ? setMode("confirm-empty") : void onSubmit(false)
            }
          >
            Submit
          </button>
          <button
            type="button"
            className="secondary"
            data-testid="workflow-skip"
            disabled={busy}
            onClick={() => setMode("skip")}
          >
            Skip…
          </button>
        </span>
      ) : null}
      {open && mode === "confirm-empty" ? (
        <span className="row" role="alertdialog" aria-label="Nothing to label?" data-testid="confirm-empty">
          <span>This image has no masks. Is there nothing to label?</span>
          <button
            type="button"
            data-testid="confirm-empty-submit"
            disabled={busy || saving}
            onClick={() => void onSubmit(true)}
          >
            Nothing to label: submit
          </button>
          <button type="button" className="link" onClick={() => setMode("idle")}>
            Cancel
          </button>
        </span>
      ) : null}
      {open && mode === "skip" ? (
        <form className="row" onSubmit={onSkip} data-testid="skip-form">
          <input
            type="text"
            aria-label="Why skip this image?"
            placeholder="Why? (blurred, wrong project, …)"
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            data-testid="skip-reason"
            // biome-ignore lint/a11y/noAutofocus: the reason is the only thing to type here
            autoFocus
          />
          <button type="submit" disabled={busy || !reason.trim()} data-testid="skip-confirm">
            Skip image
          </button>
          <button type="button" className="link" onClick={() => setMode("idle")}>
            Cancel
          </button>
        </form>
      ) : null}
      {!open && s.canManage ? (
        <button
          type="button"
          className="secondary"
          data-testid="workflow-reopen"
          disabled={busy}
          onClick={() =>
            void reopen
              .mutateAsync({ projectId: s.projectId, imageIds: [imageId] })
              .then(() => setDone("Reopened: back in the pool."))
              .catch(() => {})
          }
        >
          Reopen
        </button>
      ) : null}
      {done ? (
        <span className="success" role="status" data-testid="workflow-message">
          {" "}
          {done}
        </span>
      ) : null}
      {error ? (
        <span className="error" role="alert" data-testid="workflow-error">
          {" "}
          {error}
        </span>
      ) : null}
    </section>
  );
}
