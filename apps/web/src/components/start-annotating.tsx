"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTRPC } from "../trpc/client";

/**
 * Leases the caller's next image in the project (their own assignment first, else the oldest image still
 * new, or in progress with nobody holding it) and opens the annotation screen on it.
 */
export function StartAnnotating({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const next = useMutation(trpc.work.next.mutationOptions());
  const [empty, setEmpty] = useState(false);
  return (
    <p className="row">
      <button
        type="button"
        data-testid="start-annotating"
        disabled={next.isPending}
        onClick={async () => {
          const lease = await next.mutateAsync({ projectId });
          if (lease) router.push(`/annotate/${lease.imageId}`);
          else setEmpty(true);
        }}
      >
        {next.isPending ? "Finding an image…" : "Start annotating"}
      </button>
      {empty ? (
        <span className="muted">
          No image is waiting: every image is being worked on, submitted, skipped or done.
        </span>
      ) : null}
      {next.error ? <span className="error">{next.error.message}</span> : null}
    </p>
  );
}
