"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../trpc/client";

/**
 * The caller's masks a reviewer rejected, each with the reviewer's reason and a link to the image: what
 * to fix. A fixed mask (new pixels or label) goes back to review and leaves this list.
 */
export function NeedsChanges({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const list = useQuery({
    ...trpc.work.needsChanges.queryOptions({ projectId }),
    refetchInterval: 15_000,
  });
  if (!list.data || list.data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="needs-changes-title" data-testid="needs-changes">
      <h2 id="needs-changes-title">
        Needs changes <span className="muted">{list.data.length}</span>
      </h2>
      <p className="lead">
        A reviewer rejected these masks of yours. Fix each one and it goes back to review.
      </p>
      <ul className="needs-changes-list">
        {list.data.map((item) => (
          <li key={item.maskId} data-testid="needs-changes-item" data-mask-id={item.maskId}>
            <Link href={`/annotate/${item.imageId}`} data-testid="needs-changes-link">
              {item.filename}
            </Link>{" "}
            {item.label ? <strong>{item.label}</strong> : <em className="muted">no label</em>}
            <br />
            <span className="bad" data-testid="needs-changes-reason">
              {item.reason || "no reason given"}
            </span>{" "}
            <small className="muted">
              {item.reviewerName ? `${item.reviewerName}, ` : ""}
              {item.rejectedAt.toLocaleString()}
            </small>
          </li>
        ))}
      </ul>
    </section>
  );
}
