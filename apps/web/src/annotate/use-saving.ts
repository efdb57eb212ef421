"use client";

/**
 * Turning the draft into saved work: accept (a new mask, an annotator's fix of a proposal, or a reviewer's
 * correction), delete, and starting a correction of a saved mask. Payloads come from the pure builders in
 * payloads.ts; every write goes through the outbox (use-mask-writes) and into the undo history.
 */
import { encodeMask } from "@sas/sa1b";
import { useCallback } from "react";
import { chosenLogits, emptyDraft, isEmptyDraft } from "./draft";
import { finalMask } from "./mask-paint";
import { correctionPayload, fixPayloads, newMaskPayload } from "./payloads";
import type { DraftApi } from "./use-draft";
import type { MaskWrites, SavedMask } from "./use-mask-writes";

export function useSaving(args: {
  imageId: string;
  width: number;
  height: number;
  masks: readonly SavedMask[] | undefined;
  draft: Pick<DraftApi, "draftRef" | "setDraft" | "commitDraftChange" | "pushEntry">;
  writes: Pick<MaskWrites, "enqueue" | "versions" | "changeStatus">;
  onMessage: (message: string | null) => void;
}) {
  const { imageId, width, height, masks, onMessage } = args;
  const { draftRef, setDraft, commitDraftChange, pushEntry } = args.draft;
  const { enqueue, versions, changeStatus } = args.writes;

  const accept = useCallback(() => {
    const d = draftRef.current;
    if (isEmptyDraft(d)) return;
    const { mask, stabilityScore } = finalMask(
      chosenLogits(d),
      d.strokes,
      width,
      height,
      new OffscreenCanvas(width, height),
      d.correcting?.rle ?? null,
    );
    if (!mask.data.some((v) => v)) {
      onMessage("The mask is empty; nothing to save.");
      return;
    }
    const rle = encodeMask(mask);
    const now = Date.now();
    if (d.correcting?.mode === "edit") {
      // An annotator's fix of an automatic proposal: new pixels (with the time spent), then accepted.
      const { maskId } = d.correcting;
      const version = versions.current.get(maskId) ?? d.correcting.version;
      const fix = fixPayloads(d, maskId, version, rle, now);
      versions.current.set(maskId, version + 2);
      enqueue("update", maskId, fix.update);
      enqueue("accept", maskId, fix.accept);
      setDraft(emptyDraft());
      onMessage("Fixed and accepted.");
      return;
    }
    if (d.correcting) {
      const { maskId } = d.correcting;
      const version = versions.current.get(maskId) ?? d.correcting.version;
      versions.current.set(maskId, version + 1);
      enqueue("review", maskId, correctionPayload(maskId, version, rle));
      setDraft(emptyDraft());
      onMessage("Correction saved: the original is kept with the review.");
      return;
    }
    const id = crypto.randomUUID();
    const input = newMaskPayload(d, { id, imageId, rle, stabilityScore }, now);
    versions.current.set(id, 1);
    enqueue("save", id, input);
    pushEntry({ kind: "accept", before: d, mask: { id, input } });
    setDraft(emptyDraft());
    onMessage(null);
  }, [width, height, imageId, enqueue, setDraft, versions, draftRef, pushEntry, onMessage]);

  /** Deletes a mask (undoable: Z restores it). */
  const deleteMask = useCallback(
    (id: string) => {
      const mask = masks?.find((m) => m.id === id);
      changeStatus("delete", id);
      pushEntry({ kind: "delete", mask: mask ?? { id, input: {} } });
    },
    [masks, changeStatus, pushEntry],
  );

  /** A saved mask becomes the draft: a reviewer's correction, or an annotator's fix of a proposal. */
  const startCorrection = useCallback(
    (maskId: string, mode: "review" | "edit" = "review") => {
      const mask = masks?.find((m) => m.id === maskId);
      if (!mask) return;
      const before = draftRef.current;
      commitDraftChange(before, {
        ...emptyDraft(),
        label: mask.label,
        correcting: { maskId, version: versions.current.get(maskId) ?? mask.version, rle: mask.rle, mode },
      });
      onMessage(
        mode === "edit"
          ? "Fixing: change it with the brush and eraser (or new SAM prompts), then accept."
          : "Correcting: fix it with the brush and eraser (or new SAM prompts), then accept.",
      );
    },
    [masks, commitDraftChange, versions, draftRef, onMessage],
  );

  return { accept, deleteMask, startCorrection };
}
