"use client";

import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useEffect, useRef } from "react";
import { workflowStateNames } from "../annotate/workflow-bar";
import { useTRPC } from "../trpc/client";
import { ExportPanel } from "./export-panel";
import { ImageUpload } from "./image-upload";
import { NeedsChanges } from "./needs-changes";
import { ProjectAssignments } from "./project-assignments";
import { ProjectMembers } from "./project-members";
import { ReviewPanel } from "./review-panel";
import { StartAnnotating } from "./start-annotating";

/** While any image waits for its embedding, counts and badges refresh this often. */
const PENDING_REFRESH_MS = 3000;

const statusLabels = {
  ready: "ready",
  embedding: "embedding",
  uploaded: "queued",
  failed: "failed",
} as const;

export function ProjectView({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const summary = useQuery({
    ...trpc.image.counts.queryOptions({ projectId }),
    refetchInterval: (query) => {
      const counts = query.state.data?.counts;
      return counts && counts.uploaded + counts.embedding > 0 ? PENDING_REFRESH_MS : false;
    },
  });
  const counts = summary.data?.counts;
  const pending = !!counts && counts.uploaded + counts.embedding > 0;
  const images = useInfiniteQuery({
    ...trpc.image.listByProject.infiniteQueryOptions(
      { projectId, limit: 60 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
    refetchInterval: pending ? PENDING_REFRESH_MS : false,
  });

  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.work.assignments.queryKey({ projectId }) });
  }, [queryClient, trpc, projectId]);

  // The grid and the assign list poll only while images wait for embeddings; the counts can see the last
  // one finish before they do, which left "embedding" badges and "(embedding)" labels behind. When
  // waiting ends, both are read once more.
  const wasPending = useRef(false);
  useEffect(() => {
    if (wasPending.current && !pending) refresh();
    wasPending.current = pending;
  }, [pending, refresh]);

  if (summary.error) {
    return (
      <p role="alert" className="error">
        {summary.error.data?.code === "NOT_FOUND"
          ? "This project does not exist, or you are not a member."
          : null}
        {summary.error.data?.code === "UNAUTHORIZED" ? "Sign in to see this project." : null}
        {summary.error.data?.code !== "NOT_FOUND" && summary.error.data?.code !== "UNAUTHORIZED"
          ? `The project could not be loaded: ${summary.error.message}`
          : null}
      </p>
    );
  }
  if (!summary.data || !counts) return <p className="lead">Loading…</p>;
  const { project } = summary.data;
  const tiles = images.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <header>
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h1>{project.name}</h1>
        {project.description ? <p className="lead">{project.description}</p> : null}
        <p className="row">
          {summary.data.role === "admin" ? (
            <Link href={`/admin/passes?project=${projectId}`} data-testid="project-passes-link">
              Automatic passes
            </Link>
          ) : null}
          {summary.data.role !== "annotator" ? (
            <Link href={`/projects/${projectId}/images`} data-testid="project-table-link">
              Image table (workflow states)
            </Link>
          ) : null}
          {summary.data.canUpload ? (
            <Link href={`/audit?project=${projectId}`} data-testid="project-audit-link">
              Audit log
            </Link>
          ) : null}
          {summary.data.canUpload ? (
            <Link href={`/projects/${projectId}/stats`} data-testid="project-stats-link">
              Statistics
            </Link>
          ) : null}
        </p>
      </header>

      <section className="card" aria-labelledby="counts-title">
        <h2 id="counts-title">Images</h2>
        <p data-testid="image-counts">
          <strong data-testid="ready-count">{counts.ready}</strong> of{" "}
          <strong data-testid="total-count">{counts.total}</strong> images ready
        </p>
        <progress
          className="ready-progress"
          max={Math.max(counts.total, 1)}
          value={counts.ready}
          aria-label="Images ready"
        />
        <ul className="count-chips">
          {(Object.keys(statusLabels) as (keyof typeof statusLabels)[]).map((status) => (
            <li key={status} className={`badge badge-${status}`} data-testid={`count-${status}`}>
              {statusLabels[status]} {counts[status]}
            </li>
          ))}
        </ul>
        {pending ? <p className="lead">Embeddings are being computed; this page updates by itself.</p> : null}
        {summary.data.workAvailable ? <StartAnnotating projectId={projectId} /> : null}
      </section>

      <NeedsChanges projectId={projectId} />

      {summary.data.canUpload ? <ImageUpload projectId={projectId} onUploaded={refresh} /> : null}

      {["admin", "manager", "reviewer"].includes(summary.data.role) ? (
        <ReviewPanel projectId={projectId} />
      ) : null}

      {summary.data.canUpload ? (
        <>
          <ProjectMembers projectId={projectId} />
          <ProjectAssignments projectId={projectId} />
        </>
      ) : null}

      {summary.data.canUpload ? <ExportPanel projectId={projectId} /> : null}

      <section className="card" aria-labelledby="grid-title">
        <h2 id="grid-title">All images</h2>
        {tiles.length === 0 && !images.isPending ? <p className="lead">No images yet.</p> : null}
        <ul className="image-grid">
          {tiles.map((image) => (
            <li
              key={image.id}
              data-testid="image-tile"
              data-status={image.status}
              data-workflow={image.workflowState}
            >
              {/* Same-origin and cross-origin isolated: the thumbnail route sends CORP same-origin. */}
              {/* biome-ignore lint/performance/noImgElement: thumbnails come from our own route, already sized. */}
              <img
                src={`/api/images/${image.id}/file?variant=thumb`}
                alt={image.filename}
                loading="lazy"
                width={image.width}
                height={image.height}
              />
              <span
                className={`badge badge-${image.status}`}
                title={image.status === "failed" ? (image.error ?? "failed") : undefined}
              >
                {statusLabels[image.status]}
              </span>
              {image.workflowState !== "new" ? (
                <span className={`badge workflow-badge workflow-${image.workflowState}`}>
                  {workflowStateNames[image.workflowState]}
                </span>
              ) : null}
              <span className="tile-name" title={`${image.filename} · ${image.width}×${image.height}`}>
                {image.status === "ready" ? (
                  <Link href={`/annotate/${image.id}`} data-testid="annotate-link">
                    {image.filename}
                  </Link>
                ) : (
                  image.filename
                )}
              </span>
            </li>
          ))}
        </ul>
        {images.hasNextPage ? (
          <button type="button" onClick={() => images.fetchNextPage()} disabled={images.isFetchingNextPage}>
            {images.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        ) : null}
      </section>
    </>
  );
}
