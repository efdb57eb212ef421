"use client";

/**
 * Everything the annotation screen writes, through the persistent outbox: saves, edits, deletes,
 * restores, accepted proposals and reviews, each at the version this page last knew. Also what the mask list shows (the
 * server's masks plus writes not yet acknowledged) and the live subscription that refreshes it when
 * anyone changes a mask on this image.
 */
import type { RouterOutputs } from "@sas/api";
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTRPC, useTRPCClient } from "../trpc/client";
import type { OutboxOp } from "./outbox";
import type { OutboxInputs, OutboxKind } from "./payloads";
import { onOutboxAck, onOutboxChange, sharedOutbox } from "./services";

export type SavedMask = RouterOutputs["annotate"]["image"]["masks"][number];

export interface ShownMask {
  mask: SavedMask | null;
  pending: OutboxOp | null;
  id: string;
  rle: SavedMask["rle"];
  label: string;
  source: SavedMask["source"];
  /** An automatic proposal nobody has accepted yet (an accept waiting in the outbox counts as made). */
  proposed: boolean;
}

export function useMaskWrites(imageId: string, masks: readonly SavedMask[] | undefined) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [ops, setOps] = useState<readonly OutboxOp[]>([]);
  const versions = useRef(new Map<string, number>());
  const outbox = useMemo(() => (typeof window === "undefined" ? null : sharedOutbox(client)), [client]);

  useEffect(() => {
    if (!outbox) return;
    const refresh = () =>
      void queryClient.invalidateQueries({ queryKey: trpc.annotate.image.queryKey({ imageId }) });
    setOps(outbox.pending);
    const offChange = onOutboxChange((next) => {
      setOps(next);
      // A refusal (usually a conflict: someone else changed the mask) shows the mask as it now is.
      if (next.some((o) => o.refused && o.imageId === imageId)) refresh();
    });
    const offAck = onOutboxAck((op, result) => {
      const version = (result as { version?: number } | null)?.version;
      if (typeof version === "number") versions.current.set(op.maskId, version);
      if (op.imageId === imageId) refresh();
    });
    return () => {
      offChange();
      offAck();
    };
  }, [outbox, imageId, queryClient, trpc]);

  // Live collaboration: anyone's save, edit, delete or review on this image shows up without a reload.
  const live = useSubscription(
    trpc.annotate.events.subscriptionOptions(
      { imageId },
      {
        onData: () => {
          void queryClient.invalidateQueries({ queryKey: trpc.annotate.image.queryKey({ imageId }) });
        },
      },
    ),
  );

  useEffect(() => {
    for (const m of masks ?? []) {
      const known = versions.current.get(m.id) ?? 0;
      if (m.version > known) versions.current.set(m.id, m.version);
    }
  }, [masks]);

  /** Queues one write; its input is the receiving procedure's input type (see OutboxInputs). */
  const enqueue = useCallback(
    <K extends OutboxKind>(kind: K, maskId: string, input: OutboxInputs[K]) => {
      outbox?.enqueue({ key: crypto.randomUUID(), kind, maskId, imageId, input });
    },
    [outbox, imageId],
  );

  /** Sends a change made at the version this page last knew, and expects the next one. */
  const atVersion = useCallback(
    <K extends OutboxKind>(kind: K, maskId: string, input: (version: number) => OutboxInputs[K]) => {
      const version = versions.current.get(maskId) ?? 1;
      versions.current.set(maskId, version + 1);
      enqueue(kind, maskId, input(version));
    },
    [enqueue],
  );

  const changeStatus = useCallback(
    (kind: "delete" | "restore", maskId: string) =>
      atVersion(kind, maskId, (version) => ({ id: maskId, version })),
    [atVersion],
  );
  const review = useCallback(
    (maskId: string, decision: "approved" | "rejected", reason = "") =>
      atVersion("review", maskId, (version) => ({ maskId, version, decision, reason })),
    [atVersion],
  );
  const relabel = useCallback(
    (id: string, label: string) => atVersion("update", id, (version) => ({ id, version, label })),
    [atVersion],
  );
  /** A pass's proposal becomes an accepted mask. */
  const acceptProposal = useCallback(
    (id: string) => atVersion("accept", id, (version) => ({ id, version })),
    [atVersion],
  );

  // What the screen shows: the server's masks, plus saves not yet acknowledged, minus pending deletes.
  const shown = useMemo(() => {
    const mine = ops.filter((o) => o.imageId === imageId);
    const lastStatusOp = new Map<string, OutboxOp["kind"]>();
    // A change the server refused (say, deleting a mask a reviewer approved) did not happen: the mask
    // stays shown, with the refusal, until the user discards it.
    for (const o of mine)
      if (!o.refused && (o.kind === "save" || o.kind === "delete" || o.kind === "restore"))
        lastStatusOp.set(o.maskId, o.kind);
    const list: ShownMask[] = [];
    const seen = new Set<string>();
    const accepting = new Set(mine.filter((o) => o.kind === "accept").map((o) => o.maskId));
    for (const m of masks ?? []) {
      seen.add(m.id);
      if (lastStatusOp.get(m.id) === "delete") continue;
      list.push({
        mask: m,
        pending: mine.find((o) => o.maskId === m.id) ?? null,
        id: m.id,
        rle: m.rle,
        label: m.label,
        source: m.source,
        proposed: m.status === "proposed" && !accepting.has(m.id),
      });
    }
    for (const o of mine) {
      if (o.kind !== "save" || seen.has(o.maskId) || lastStatusOp.get(o.maskId) === "delete") continue;
      seen.add(o.maskId);
      list.push({
        mask: null,
        pending: o,
        id: o.maskId,
        rle: o.input.rle as SavedMask["rle"],
        label: String(o.input.label ?? ""),
        source: "manual",
        proposed: false,
      });
    }
    return list;
  }, [masks, ops, imageId]);

  return { outbox, ops, live, versions, enqueue, changeStatus, review, relabel, acceptProposal, shown };
}

export type MaskWrites = ReturnType<typeof useMaskWrites>;
