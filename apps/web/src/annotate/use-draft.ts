"use client";

/**
 * The mask being made and its history: the draft (prompts, strokes, the decoder's answer) painted onto the
 * 256x256 draft layer, stored in localStorage so a reload brings it back, and undo/redo over draft changes,
 * accepts and deletes (an accept or delete is undone through the outbox, as a delete or restore).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { recordActivity } from "./activity";
import {
  chosenLogits,
  type Draft,
  draftStorageKey,
  emptyDraft,
  emptyHistory,
  type History,
  type HistoryEntry,
  isEmptyDraft,
  parseDraft,
  popRedo,
  popUndo,
  pushHistory,
  serializeDraft,
} from "./draft";
import { paintLowRes } from "./mask-paint";
import type { OutboxInputs } from "./payloads";
import type { SavedMask } from "./use-mask-writes";

/** An accepted mask as history keeps it, so undo/redo can delete and re-create it. */
export interface AcceptedMask {
  id: string;
  input: OutboxInputs["save"] | Record<string, never>;
}
export type HistoryMask = AcceptedMask | SavedMask;

/** Colour of the hover preview (the mask under the cursor before the first prompt). */
const HOVER_RGB: [number, number, number] = [250, 204, 21];

export function useDraft(args: {
  imageId: string;
  width: number;
  height: number;
  /** The image is on screen: a stored draft can be restored and painted. */
  imageShown: boolean;
  /** Repaints the canvas' draft layer after the draft canvas changed. */
  redraw: () => void;
  changeStatus: (kind: "delete" | "restore", maskId: string) => void;
  onMessage: (message: string | null) => void;
}) {
  const { imageId, width, height, imageShown, redraw, changeStatus, onMessage } = args;
  const draftCanvas = useMemo(() => {
    if (typeof document === "undefined") return null;
    const c = document.createElement("canvas");
    c.width = 256;
    c.height = 256;
    return c;
  }, []);
  const draftPixels = useMemo(() => (draftCanvas ? new ImageData(256, 256) : null), [draftCanvas]);

  const [draft, setDraftState] = useState<Draft>(emptyDraft);
  const draftRef = useRef(draft);
  const [history, setHistory] = useState<History<HistoryMask>>(emptyHistory);
  const historyRef = useRef(history);
  historyRef.current = history;

  /** Paints logits (or nothing) onto the draft layer; `hover` in the preview colour. */
  const paintDraft = useCallback(
    (logits: Float32Array | null, hover = false) => {
      if (!draftCanvas || !draftPixels) return;
      if (logits) paintLowRes(draftPixels, logits, width, height, hover ? HOVER_RGB : undefined, 255);
      else draftPixels.data.fill(0);
      draftCanvas.getContext("2d")?.putImageData(draftPixels, 0, 0);
      redraw();
    },
    [draftCanvas, draftPixels, width, height, redraw],
  );

  // Storing a draft serialises its logits (a few ms): done once per burst of changes, after painting.
  const unsaved = useRef<{ imageId: string; draft: Draft } | null>(null);
  const persistSoon = useCallback(
    (next: Draft) => {
      const scheduled = unsaved.current !== null;
      unsaved.current = { imageId, draft: next };
      if (scheduled) return;
      setTimeout(() => {
        const pending = unsaved.current;
        unsaved.current = null;
        if (!pending) return;
        try {
          const key = draftStorageKey(pending.imageId);
          if (isEmptyDraft(pending.draft) && pending.draft.label === "") localStorage.removeItem(key);
          else localStorage.setItem(key, serializeDraft(pending.draft));
        } catch {
          onMessage("This browser's storage is full: the unfinished mask would not survive a reload.");
        }
      }, 0);
    },
    [imageId, onMessage],
  );

  /** The draft becomes `next`: painted (unless the caller already did), shown, and stored for reloads. */
  const setDraft = useCallback(
    (next: Draft, alreadyPainted = false) => {
      draftRef.current = next;
      setDraftState(next);
      if (!alreadyPainted) paintDraft(chosenLogits(next));
      persistSoon(next);
    },
    [paintDraft, persistSoon],
  );

  // A half-made mask comes back after a reload.
  // biome-ignore lint/correctness/useExhaustiveDependencies: restore once per image, when it can be painted
  useEffect(() => {
    if (!imageShown) return;
    const restored = parseDraft(localStorage.getItem(draftStorageKey(imageId)));
    draftRef.current = restored ?? emptyDraft();
    setDraftState(draftRef.current);
    setHistory(emptyHistory());
    requestAnimationFrame(() => paintDraft(chosenLogits(draftRef.current)));
    if (restored) onMessage("Restored the mask you were making.");
  }, [imageShown, imageId]);

  const pushEntry = useCallback(
    (entry: HistoryEntry<HistoryMask>) => setHistory((h) => pushHistory(h, entry)),
    [],
  );

  const commitDraftChange = useCallback(
    (before: Draft, after: Draft, alreadyPainted = false) => {
      pushEntry({ kind: "draft", before, after });
      setDraft(after, alreadyPainted);
    },
    [setDraft, pushEntry],
  );

  const undo = useCallback(() => {
    const popped = popUndo(historyRef.current);
    if (!popped) return;
    setHistory(popped.history);
    const { entry } = popped;
    // Undo restores prompts and pixels, not the clock: time and counts (this undo included) carry on.
    if (entry.kind === "draft") {
      setDraft({ ...entry.before, activity: recordActivity(draftRef.current.activity, "undos", Date.now()) });
    } else if (entry.kind === "accept") {
      changeStatus("delete", entry.mask.id);
      setDraft({ ...entry.before, activity: recordActivity(entry.before.activity, "undos", Date.now()) });
    } else {
      changeStatus("restore", entry.mask.id);
    }
  }, [setDraft, changeStatus]);

  const redo = useCallback(() => {
    const popped = popRedo(historyRef.current);
    if (!popped) return;
    setHistory(popped.history);
    const { entry } = popped;
    // Time and effort only grow: the redone snapshot keeps the counts made since.
    if (entry.kind === "draft")
      setDraft({ ...entry.after, activity: recordActivity(draftRef.current.activity, "other", Date.now()) });
    else if (entry.kind === "accept") {
      changeStatus("restore", entry.mask.id);
      setDraft(emptyDraft());
    } else changeStatus("delete", entry.mask.id);
  }, [setDraft, changeStatus]);

  const clearDraft = useCallback(() => {
    const before = draftRef.current;
    if (isEmptyDraft(before)) return;
    commitDraftChange(before, { ...emptyDraft(), activity: before.activity });
  }, [commitDraftChange]);

  return {
    draft,
    draftRef,
    draftCanvas,
    history,
    paintDraft,
    setDraft,
    commitDraftChange,
    pushEntry,
    undo,
    redo,
    clearDraft,
  };
}

export type DraftApi = ReturnType<typeof useDraft>;
