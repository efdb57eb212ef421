"use client";

/**
 * The assisted-manual annotation screen: SAM prompts decoded in the browser, brush and eraser, undo/redo,
 * accept with timing, and every write through the persistent outbox so no work is lost.
 */
import { encodeMask } from "@sas/sa1b";
import type { BoxPrompt, PointPrompt } from "@sas/sam";
import { lowResContentSize } from "@sas/sam";
import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTRPC } from "../trpc/client";
import { type ActivityKind, finishActivity, recordActivity } from "./activity";
import type { CanvasPointerEvent, CanvasViewHandle } from "./canvas-view";
import { coverageOf, formatCoverage, paintUncovered } from "./coverage";
import { cutoutPng, downloadBlob } from "./cutout";
import { SupersededError } from "./decoder/decoder-client";
import {
  type BrushStroke,
  chosenLogits,
  type Draft,
  decodedFor,
  draftPrompt,
  draftStorageKey,
  emptyDraft,
  emptyHistory,
  type History,
  hasPrompt,
  isEmptyDraft,
  likelyLabel,
  offersChoices,
  parseDraft,
  popRedo,
  popUndo,
  pushHistory,
  serializeDraft,
  withCandidate,
  withDecoded,
} from "./draft";
import { HelpOverlay } from "./help-overlay";
import { MaskList } from "./mask-list";
import {
  autoMaskColor,
  colorForMask,
  finalMask,
  maskColor,
  paintLowRes,
  paintMask,
  paintOverlay,
} from "./mask-paint";
import { type PerfSample, recordPerf } from "./perf";
import { lookAheadAllowed } from "./services";
import { SHORTCUTS, type ShortcutAction, shortcutFor } from "./shortcuts";
import { useDecoderSession } from "./use-decoder-session";
import { type SavedMask, useMaskWrites } from "./use-mask-writes";
import { WorkflowBar } from "./workflow-bar";

const rgbCss = ([r, g, b]: readonly [number, number, number]) => `rgb(${r},${g},${b})`;

const CanvasView = dynamic(() => import("./canvas-view").then((m) => m.CanvasView), { ssr: false });

type Tool = "prompt" | "brush" | "eraser";

/** The payload of an accepted mask, kept in history so undo/redo can delete and re-create it. */
interface AcceptedMask {
  id: string;
  input: Record<string, unknown>;
}
type Entry = AcceptedMask | SavedMask;

/** The cursor resting this long (ms) after a prompt starts decoding a click there. */
const REST_MS = 30;

/** A drag shorter than this (screen pixels) is a click, not a box. */
const DRAG_THRESHOLD_PX = 5;

function useLoadedImage(src: string | null) {
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!src) return;
    const el = new window.Image();
    el.onload = () => setImg(el);
    el.onerror = () => setError("the image could not be displayed by this browser");
    el.src = src;
    return () => {
      el.onload = null;
      el.onerror = null;
    };
  }, [src]);
  return { img, error };
}

export function AnnotationWorkspace({ imageId }: { imageId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const data = useQuery({ ...trpc.annotate.image.queryOptions({ imageId }), staleTime: 30_000 });
  const me = useQuery(trpc.me.get.queryOptions());
  const ws = data.data;
  const width = ws?.image.width ?? 1;
  const height = ws?.image.height ?? 1;
  const { img, error: imageError } = useLoadedImage(ws ? `/api/images/${imageId}/file` : null);

  const canvas = useRef<CanvasViewHandle>(null);
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
  const [history, setHistory] = useState<History<Entry>>(emptyHistory);
  const historyRef = useRef(history);
  historyRef.current = history;
  const [tool, setTool] = useState<Tool>("prompt");
  const [brushRadius, setBrushRadius] = useState(12);
  const [hoverEnabled, setHoverEnabled] = useState(true);
  const [liveStroke, setLiveStroke] = useState<BrushStroke | null>(null);
  const [dragBox, setDragBox] = useState<BoxPrompt | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [showUncovered, setShowUncovered] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // Every delete asks first (the list's button and the Del key): the mask waiting for that answer.
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const pointerDown = useRef<{
    x: number;
    y: number;
    screenScale: number;
    time: number;
    label: 0 | 1;
    /** A plain left press may become a box drag. */
    mayDrag: boolean;
    atPress: PerfSample["atPress"];
  } | null>(null);
  const lookAheadOn = useMemo(() => typeof window !== "undefined" && lookAheadAllowed(), []);
  const restTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const { decoder, decoderState, embeddingReady, nextImageId, leaseNext } = useDecoderSession({
    imageId,
    modelVersionId: ws?.modelVersionId ?? null,
    projectId: ws?.image.projectId ?? null,
    onError: setMessage,
  });
  const { outbox, ops, live, versions, enqueue, changeStatus, review, relabel, acceptProposal, shown } =
    useMaskWrites(imageId, ws?.masks);

  // --- painting -------------------------------------------------------------------------------------

  const paintDraft = useCallback(
    (logits: Float32Array | null, hover = false) => {
      if (!draftCanvas || !draftPixels) return;
      if (logits) paintLowRes(draftPixels, logits, width, height, hover ? [250, 204, 21] : undefined, 255);
      else draftPixels.data.fill(0);
      draftCanvas.getContext("2d")?.putImageData(draftPixels, 0, 0);
      canvas.current?.redrawDraft();
    },
    [draftCanvas, draftPixels, width, height],
  );

  // Storing a draft serialises its logits (a few ms): done once per burst of changes, after painting.
  const unsaved = useRef<{ imageId: string; draft: Draft } | null>(null);
  const persistSoon = useCallback(
    (draft: Draft) => {
      const scheduled = unsaved.current !== null;
      unsaved.current = { imageId, draft };
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
          setMessage("This browser's storage is full: the unfinished mask would not survive a reload.");
        }
      }, 0);
    },
    [imageId],
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
    if (!img) return;
    const restored = parseDraft(localStorage.getItem(draftStorageKey(imageId)));
    draftRef.current = restored ?? emptyDraft();
    setDraftState(draftRef.current);
    setHistory(emptyHistory());
    requestAnimationFrame(() => paintDraft(chosenLogits(draftRef.current)));
    if (restored) setMessage("Restored the mask you were making.");
  }, [img, imageId]);

  const overlay = useMemo(() => {
    if (!ws || typeof document === "undefined") return null;
    const data = paintOverlay(
      shown.map((s, i) => ({
        rle: s.rle,
        color: colorForMask(s.source, i),
        highlighted: s.id === selected,
        proposed: s.proposed,
      })),
      width,
      height,
    );
    const c = document.createElement("canvas");
    c.width = data.width;
    c.height = data.height;
    c.getContext("2d")?.putImageData(data, 0, 0);
    return c;
  }, [shown, selected, ws, width, height]);

  // Coverage changes only when masks come, go or change pixels, not on every outbox tick or selection.
  const maskSetKey = shown.map((s) => `${s.id}:${s.mask?.version ?? 0}`).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed per mask set (maskSetKey), not per render
  const coverage = useMemo(
    () =>
      coverageOf(
        shown.map((s) => s.rle),
        width,
        height,
      ),
    [maskSetKey, width, height],
  );
  const uncoveredCanvas = useMemo(() => {
    if (!showUncovered || !ws || typeof document === "undefined") return null;
    const data = paintUncovered(coverage.union, width, height);
    const c = document.createElement("canvas");
    c.width = data.width;
    c.height = data.height;
    c.getContext("2d")?.putImageData(data, 0, 0);
    return c;
  }, [showUncovered, coverage, ws, width, height]);

  // The saved mask a reviewer is correcting, shown until SAM prompts replace it.
  const correctingRle = draft.correcting?.rle ?? null;
  const baseCanvas = useMemo(() => {
    if (!correctingRle || typeof document === "undefined") return null;
    const data = paintMask(correctingRle);
    const c = document.createElement("canvas");
    c.width = data.width;
    c.height = data.height;
    c.getContext("2d")?.putImageData(data, 0, 0);
    return c;
  }, [correctingRle]);

  // --- prompts ----------------------------------------------------------------------------------------

  const commitDraftChange = useCallback(
    (before: Draft, after: Draft, alreadyPainted = false) => {
      setHistory((h) => pushHistory(h, { kind: "draft", before, after }));
      setDraft(after, alreadyPainted);
    },
    [setDraft],
  );

  const decodePrompt = useCallback(
    async (
      points: PointPrompt[],
      box: BoxPrompt | null,
      kind: ActivityKind,
      eventTime: number,
      atPress?: PerfSample["atPress"],
    ) => {
      if (!decoder || !embeddingReady) {
        setMessage("The model is still loading; try again in a moment.");
        return;
      }
      const before = draftRef.current;
      const prompt = draftPrompt(before, points, box);
      try {
        const out = await decoder.decode(imageId, prompt);
        const current = draftRef.current;
        const after = withDecoded(
          { ...current, activity: recordActivity(current.activity, kind, Date.now()) },
          points,
          box,
          decodedFor(out.lowRes, out.iou, prompt),
        );
        paintDraft(chosenLogits(after));
        recordPerf({
          kind: kind === "boxes" ? "box" : "click",
          eventToPaintMs: performance.now() - eventTime,
          decodeMs: out.decodeMs,
          runMs: out.runMs,
          ...(atPress ? { atPress } : {}),
        });
        commitDraftChange(before, after, true);
      } catch (error) {
        if (!(error instanceof SupersededError)) setMessage(`Decoding failed: ${(error as Error).message}`);
      }
    },
    [decoder, embeddingReady, imageId, paintDraft, commitDraftChange],
  );

  /**
   * The click the cursor is resting on, decoded ahead so that clicking there shows its mask at once:
   * before the first prompt that is the hover preview (painted when hover is on); after it the next click
   * (not painted), with the label it most likely gets, then with the other one while the cursor stays.
   * The latest position wins; nothing queues up.
   */
  const restingAt = useRef<{ x: number; y: number } | null>(null);
  const lookAheadAt = useCallback(
    (x: number, y: number, eventTime: number) => {
      if (!decoder || !embeddingReady) return;
      const d = draftRef.current;
      const preview = isEmptyDraft(d) && hoverEnabled;
      if (!preview && !lookAheadOn) return;
      const at = { x, y };
      restingAt.current = at;
      const first = isEmptyDraft(d) ? 1 : likelyLabel(d, x, y, width, height);
      const promptFor = (label: 0 | 1) => draftPrompt(d, [...d.points, { x, y, label }], d.box);
      const prompt = promptFor(first);
      decoder.lookAhead(imageId, prompt).then(
        (out) => {
          if (!preview) {
            if (restingAt.current === at && draftRef.current === d && !isEmptyDraft(d))
              decoder.lookAhead(imageId, promptFor(first === 1 ? 0 : 1)).catch(() => {});
            return;
          }
          if (!isEmptyDraft(draftRef.current)) return;
          const decoded = decodedFor(out.lowRes, out.iou, prompt);
          const k = withDecoded(emptyDraft(), [], null, decoded).candidate;
          paintDraft(decoded.lowRes.subarray(k * 65536, (k + 1) * 65536), true);
          recordPerf({
            kind: "hover",
            eventToPaintMs: performance.now() - eventTime,
            decodeMs: out.decodeMs,
            runMs: out.runMs,
          });
        },
        () => {},
      );
    },
    [decoder, embeddingReady, hoverEnabled, lookAheadOn, imageId, paintDraft, width, height],
  );

  /** The cursor moved, left or pressed: no look-ahead waits for it any more. */
  const stopResting = () => {
    if (restTimer.current) clearTimeout(restTimer.current);
    restTimer.current = null;
    restingAt.current = null;
  };

  const inImage = (p: { x: number; y: number }) => p.x >= 0 && p.y >= 0 && p.x < width && p.y < height;

  const onPointerDown = (e: CanvasPointerEvent) => {
    if (tool !== "prompt") {
      if (e.button !== 0) return;
      setLiveStroke({ mode: tool === "brush" ? "paint" : "erase", radius: brushRadius, points: [e.x, e.y] });
      return;
    }
    if (e.button !== 0 && e.button !== 2) return;
    stopResting();
    const screen = canvas.current?.toScreen({ x: 1, y: 0 });
    const origin = canvas.current?.toScreen({ x: 0, y: 0 });
    const screenScale = screen && origin ? screen.x - origin.x : 1;
    const label = e.button === 2 || e.altKey ? 0 : 1;
    const d = draftRef.current;
    const prompt = draftPrompt(d, [...d.points, { x: e.x, y: e.y, label }], d.box);
    const ready = decoder && embeddingReady && inImage(e);
    pointerDown.current = {
      x: e.x,
      y: e.y,
      screenScale,
      time: e.timeStamp,
      label,
      mayDrag: label === 1,
      atPress: ready ? decoder.stateOf(imageId, prompt) : "none",
    };
    // The click's decode starts at the press (a drag turns it into a box prompt instead).
    if (ready) decoder.lookAhead(imageId, prompt).catch(() => {});
  };

  const onPointerMove = (e: CanvasPointerEvent) => {
    if (liveStroke) {
      setLiveStroke({ ...liveStroke, points: [...liveStroke.points, e.x, e.y] });
      return;
    }
    const down = pointerDown.current;
    if (down) {
      const dist = Math.hypot(e.x - down.x, e.y - down.y) * down.screenScale;
      if (down.mayDrag && dist >= DRAG_THRESHOLD_PX) setDragBox({ x0: down.x, y0: down.y, x1: e.x, y1: e.y });
      return;
    }
    stopResting();
    if (tool !== "prompt" || !inImage(e)) return;
    // the hover preview follows the cursor; the invisible look-ahead waits for it to rest
    if (isEmptyDraft(draftRef.current) && hoverEnabled) lookAheadAt(e.x, e.y, e.timeStamp);
    else restTimer.current = setTimeout(() => lookAheadAt(e.x, e.y, e.timeStamp), REST_MS);
  };

  const clamp = (b: BoxPrompt): BoxPrompt => ({
    x0: Math.max(0, Math.min(width, Math.min(b.x0, b.x1))),
    y0: Math.max(0, Math.min(height, Math.min(b.y0, b.y1))),
    x1: Math.max(0, Math.min(width, Math.max(b.x0, b.x1))),
    y1: Math.max(0, Math.min(height, Math.max(b.y0, b.y1))),
  });

  const onPointerUp = (e: CanvasPointerEvent) => {
    if (liveStroke) {
      const stroke = liveStroke;
      setLiveStroke(null);
      const before = draftRef.current;
      commitDraftChange(before, {
        ...before,
        strokes: [...before.strokes, stroke],
        activity: recordActivity(before.activity, "brushStrokes", Date.now()),
      });
      return;
    }
    if (tool !== "prompt") return;
    const down = pointerDown.current;
    pointerDown.current = null;
    if (!down) return;
    const d = draftRef.current;
    if (dragBox) {
      setDragBox(null);
      const box = clamp(dragBox);
      if (box.x1 - box.x0 >= 1 && box.y1 - box.y0 >= 1)
        void decodePrompt(d.points, box, "boxes", e.timeStamp);
      return;
    }
    // where it was pressed: the decode that started then answers it
    if (inImage(down))
      void decodePrompt(
        [...d.points, { x: down.x, y: down.y, label: down.label }],
        d.box,
        "clicks",
        down.time,
        down.atPress,
      );
  };

  const onPointerLeave = () => {
    stopResting();
    decoder?.cancelLookAhead();
    if (isEmptyDraft(draftRef.current)) paintDraft(null);
  };

  // --- accept, undo, redo, delete --------------------------------------------------------------------

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
    const rle = encodeMask(mask);
    if (!mask.data.some((v) => v)) {
      setMessage("The mask is empty; nothing to save.");
      return;
    }
    if (d.correcting?.mode === "edit") {
      // An annotator's fix of an automatic proposal: new pixels (with the time spent), then accepted.
      const { maskId } = d.correcting;
      const version = versions.current.get(maskId) ?? d.correcting.version;
      const fixTiming = finishActivity(d.activity, Date.now());
      versions.current.set(maskId, version + 2);
      enqueue("update", maskId, {
        id: maskId,
        version,
        rle,
        ...(d.label.trim() ? { label: d.label.trim() } : {}),
        timing: {
          ...fixTiming,
          startedAt: fixTiming.startedAt.toISOString(),
          finishedAt: fixTiming.finishedAt.toISOString(),
        },
      });
      enqueue("accept", maskId, { id: maskId, version: version + 1 });
      setDraft(emptyDraft());
      setMessage("Fixed and accepted.");
      return;
    }
    if (d.correcting) {
      const { maskId } = d.correcting;
      const version = versions.current.get(maskId) ?? d.correcting.version;
      versions.current.set(maskId, version + 1);
      enqueue("review", maskId, { maskId, version, decision: "corrected", rle });
      setDraft(emptyDraft());
      setMessage("Correction saved: the original is kept with the review.");
      return;
    }
    const timing = finishActivity(d.activity, Date.now());
    const id = crypto.randomUUID();
    const prompts = [
      ...d.points.map((p) => ({ type: "point" as const, ...p })),
      ...(d.box ? [{ type: "box" as const, ...d.box }] : []),
      ...d.strokes.map((s) => ({
        type: "brush" as const,
        mode: s.mode,
        radius: s.radius,
        points: Array.from({ length: s.points.length / 2 }, (_, i) => [
          s.points[2 * i]!,
          s.points[2 * i + 1]!,
        ]),
      })),
    ];
    const input = {
      id,
      imageId,
      rle,
      predictedIou: hasPrompt(d) && d.decoded ? d.decoded.iou[d.candidate]! : null,
      stabilityScore,
      pointCoords: d.points.map((p) => [p.x, p.y]),
      prompts,
      label: d.label.trim(),
      timing: {
        ...timing,
        startedAt: timing.startedAt.toISOString(),
        finishedAt: timing.finishedAt.toISOString(),
      },
    };
    versions.current.set(id, 1);
    enqueue("save", id, input);
    setHistory((h) => pushHistory(h, { kind: "accept", before: d, mask: { id, input } }));
    setDraft(emptyDraft());
    setMessage(null);
  }, [width, height, imageId, enqueue, setDraft, versions]);

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

  const deleteMask = useCallback(
    (id: string) => {
      const mask = ws?.masks.find((m) => m.id === id);
      changeStatus("delete", id);
      if (mask) setHistory((h) => pushHistory(h, { kind: "delete", mask }));
      else setHistory((h) => pushHistory(h, { kind: "delete", mask: { id, input: {} } }));
      if (selected === id) setSelected(null);
    },
    [ws?.masks, changeStatus, selected],
  );

  const startCorrection = useCallback(
    (maskId: string, mode: "review" | "edit" = "review") => {
      const mask = ws?.masks.find((m) => m.id === maskId);
      if (!mask) return;
      const before = draftRef.current;
      commitDraftChange(before, {
        ...emptyDraft(),
        label: mask.label,
        correcting: { maskId, version: versions.current.get(maskId) ?? mask.version, rle: mask.rle, mode },
      });
      setSelected(null);
      setMessage(
        mode === "edit"
          ? "Fixing: change it with the brush and eraser (or new SAM prompts), then accept."
          : "Correcting: fix it with the brush and eraser (or new SAM prompts), then accept.",
      );
    },
    [ws?.masks, commitDraftChange, versions],
  );

  const clearDraft = useCallback(() => {
    const before = draftRef.current;
    if (isEmptyDraft(before)) return;
    commitDraftChange(before, { ...emptyDraft(), activity: before.activity });
  }, [commitDraftChange]);

  const cutout = useCallback(
    async (id: string) => {
      const item = shown.find((s) => s.id === id);
      if (!item || !img) return;
      try {
        downloadBlob(
          await cutoutPng(img, item.rle),
          `${ws?.image.filename.replace(/\.[^.]+$/, "") ?? "mask"}-${id.slice(0, 8)}.png`,
        );
      } catch (error) {
        setMessage(`Cut-out failed: ${(error as Error).message}`);
      }
    },
    [shown, img, ws?.image.filename],
  );

  // Moving on never hands the image in: submitting is explicit (the workflow bar's Submit / Skip).
  const goNext = useCallback(async () => {
    const projectId = ws?.image.projectId;
    if (!projectId) return;
    const next = nextImageId
      ? { imageId: nextImageId }
      : await leaseNext.mutateAsync({ projectId, skipImageId: imageId });
    if (next) router.push(`/annotate/${next.imageId}`);
    else setMessage("No more images to annotate in this project. Thank you!");
  }, [ws?.image.projectId, imageId, nextImageId, leaseNext, router]);

  useEffect(() => {
    window.__sasToScreen = (x, y) => canvas.current?.toScreen({ x, y }) ?? null;
    return () => {
      window.__sasToScreen = undefined;
    };
  }, []);

  // --- keyboard ----------------------------------------------------------------------------------------

  useEffect(() => {
    const chooseCandidate = (k: number) => {
      const before = draftRef.current;
      const after = withCandidate(before, k);
      if (after !== before) commitDraftChange(before, after);
    };
    const actions: Record<ShortcutAction, () => void> = {
      undo,
      redo,
      accept,
      clear: clearDraft,
      choice1: () => chooseCandidate(1),
      choice2: () => chooseCandidate(2),
      choice3: () => chooseCandidate(3),
      toolPrompt: () => setTool("prompt"),
      toolBrush: () => setTool("brush"),
      toolEraser: () => setTool("eraser"),
      brushSmaller: () => setBrushRadius((r) => Math.max(1, Math.round(r / 1.25))),
      brushLarger: () => setBrushRadius((r) => Math.min(500, Math.round(r * 1.25))),
      toggleHover: () => setHoverEnabled((v) => !v),
      toggleUncovered: () => setShowUncovered((v) => !v),
      nextImage: () => void goNext(),
      deleteSelected: () => selected && setConfirmingDelete(selected),
      cutoutSelected: () => selected && void cutout(selected),
      zoomIn: () => canvas.current?.zoomBy(1.25),
      zoomOut: () => canvas.current?.zoomBy(0.8),
      fit: () => canvas.current?.fit(),
      panLeft: () => canvas.current?.panBy(60, 0),
      panRight: () => canvas.current?.panBy(-60, 0),
      panUp: () => canvas.current?.panBy(0, 60),
      panDown: () => canvas.current?.panBy(0, -60),
      help: () => setHelp((v) => !v),
    };
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (
        target &&
        (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)
      ) {
        // Typing a label: Enter still accepts; every other key is text.
        if (e.key === "Enter" && target.dataset.draftLabel !== undefined) accept();
        return;
      }
      const action = shortcutFor(e);
      if (!action) return;
      e.preventDefault();
      actions[action]();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [accept, undo, redo, clearDraft, commitDraftChange, goNext, selected, cutout]);

  // --- render ------------------------------------------------------------------------------------------

  if (data.error) {
    const code = data.error.data?.code;
    return (
      <p role="alert" className="error">
        {code === "NOT_FOUND"
          ? "This image does not exist, or it is not in one of your projects."
          : `The image could not be loaded: ${data.error.message}`}
      </p>
    );
  }
  if (!ws || !draftCanvas) return <p className="lead">Loading…</p>;
  if (!ws.modelVersionId) return <p className="error">This project has no active model version.</p>;

  const failing = ops.find((o) => o.error);
  const saveStatus =
    ops.length === 0
      ? "All changes saved"
      : failing
        ? failing.refused
          ? `Not saved: ${failing.error}`
          : `Saving failed (${failing.attempts}×), retrying: ${failing.error}`
        : `Saving ${ops.length}…`;
  const content = lowResContentSize(width, height);
  const choices = offersChoices(draft.decoded);

  return (
    <div
      className="annotate"
      data-testid="annotate-workspace"
      data-embedding-ready={embeddingReady ? "yes" : "no"}
    >
      <header className="annotate-bar">
        <Link href={`/projects/${ws.image.projectId}`}>← {ws.projectName}</Link>
        <strong>{ws.image.filename}</strong>
        <WorkflowBar imageId={imageId} maskCount={shown.length} />
        <span
          className={live.status === "pending" ? "live on" : "live"}
          data-testid="live-state"
          title="Live updates from others"
        >
          {live.status === "pending" ? "● live" : "○ offline"}
        </span>
        <span className="muted" data-testid="decoder-state">
          {decoderState}
          {embeddingReady ? "" : " · loading embedding…"}
        </span>
        <span className={`save-status${failing ? " bad" : ""}`} role="status" data-testid="save-status">
          {saveStatus}
          {failing?.refused ? (
            <button type="button" className="link" onClick={() => outbox?.discard(failing.key)}>
              Discard
            </button>
          ) : null}
          {failing && !failing.refused ? (
            <button type="button" className="link" onClick={() => outbox?.retryNow()}>
              Retry now
            </button>
          ) : null}
        </span>
        <button type="button" onClick={() => void goNext()} data-testid="next-image">
          Next image (N)
        </button>
        <button type="button" className="link" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          ?
        </button>
      </header>
      <div className="annotate-main">
        <div className="annotate-tools" role="toolbar" aria-label="Tools">
          {(["prompt", "brush", "eraser"] as const).map((t) => (
            <button
              key={t}
              type="button"
              aria-pressed={tool === t}
              onClick={() => setTool(t)}
              data-testid={`tool-${t}`}
            >
              {t === "prompt" ? "SAM (P)" : t === "brush" ? "Brush (B)" : "Eraser (E)"}
            </button>
          ))}
          {tool !== "prompt" ? (
            <label>
              Size {brushRadius}px
              <input
                type="range"
                min={1}
                max={200}
                value={brushRadius}
                onChange={(e) => setBrushRadius(Number(e.target.value))}
              />
            </label>
          ) : null}
          <label>
            <input
              type="checkbox"
              checked={hoverEnabled}
              onChange={(e) => setHoverEnabled(e.target.checked)}
            />{" "}
            Hover preview (H)
          </label>
          <button type="button" onClick={undo} disabled={history.past.length === 0} data-testid="undo">
            Undo (Z)
          </button>
          <button type="button" onClick={redo} disabled={history.future.length === 0} data-testid="redo">
            Redo (Y)
          </button>
        </div>
        {img ? (
          <CanvasView
            ref={canvas}
            image={img}
            width={width}
            height={height}
            overlay={overlay}
            uncovered={uncoveredCanvas}
            draftCanvas={draftCanvas}
            baseCanvas={draft.decoded ? null : baseCanvas}
            draftContent={content}
            strokes={draft.strokes}
            liveStroke={liveStroke}
            points={draft.points}
            box={draft.box}
            dragBox={dragBox}
            cursor={tool === "prompt" ? "crosshair" : "cell"}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerLeave={onPointerLeave}
          />
        ) : (
          <div className="annotate-canvas">
            {imageError ? <p className="error">{imageError}</p> : <p className="lead">Loading image…</p>}
          </div>
        )}
        <aside className="annotate-side">
          <section aria-label="Current mask" data-testid="draft-panel">
            <h2>Current mask</h2>
            {isEmptyDraft(draft) ? (
              <p className="muted">Click the object (right-click or Alt-click: background), or drag a box.</p>
            ) : (
              <p data-testid="draft-summary">
                {draft.points.length} point{draft.points.length === 1 ? "" : "s"}
                {draft.box ? " + box" : ""}
                {draft.strokes.length
                  ? ` + ${draft.strokes.length} stroke${draft.strokes.length === 1 ? "" : "s"}`
                  : ""}
                {draft.decoded ? ` · IoU ${draft.decoded.iou[draft.candidate]?.toFixed(2)}` : ""}
              </p>
            )}
            {choices && draft.decoded ? (
              <fieldset className="choices" aria-label="Mask choices">
                {[1, 2, 3].map((k) => (
                  <button
                    key={k}
                    type="button"
                    aria-pressed={draft.candidate === k}
                    onClick={() => commitDraftChange(draft, withCandidate(draft, k))}
                    data-testid={`choice-${k}`}
                  >
                    {k}: {draft.decoded?.iou[k]?.toFixed(2)}
                  </button>
                ))}
              </fieldset>
            ) : null}
            <input
              type="text"
              placeholder="Label (optional)"
              value={draft.label}
              maxLength={200}
              data-draft-label=""
              data-testid="draft-label"
              onChange={(e) => setDraft({ ...draftRef.current, label: e.target.value })}
            />
            <div className="row">
              <button type="button" onClick={accept} disabled={isEmptyDraft(draft)} data-testid="accept">
                {draft.correcting?.mode === "edit"
                  ? "Save fix (Enter)"
                  : draft.correcting
                    ? "Save correction (Enter)"
                    : "Accept (Enter)"}
              </button>
              <button type="button" className="link" onClick={clearDraft} disabled={isEmptyDraft(draft)}>
                Clear (Esc)
              </button>
            </div>
          </section>
          {message ? (
            <p className="notice" role="status" data-testid="annotate-message">
              {message}
            </p>
          ) : null}
          <section aria-label="Coverage" className="coverage" data-testid="coverage-panel">
            <h2>
              Coverage{" "}
              <strong
                data-testid="coverage"
                data-share={coverage.share.toFixed(4)}
                title={`${coverage.coveredPixels.toLocaleString()} of ${(width * height).toLocaleString()} pixels under a mask`}
              >
                {formatCoverage(coverage.share)}
              </strong>
            </h2>
            <progress max={1} value={coverage.share} aria-label="Share of the image under a mask" />
            <button
              type="button"
              className="secondary"
              aria-pressed={showUncovered}
              onClick={() => setShowUncovered((v) => !v)}
              data-testid="toggle-uncovered"
            >
              {showUncovered ? "Hide uncovered (U)" : "Show uncovered (U)"}
            </button>
            <ul className="legend mask-legend" data-testid="mask-legend">
              <li>
                <span
                  className="swatch"
                  style={{
                    background: `linear-gradient(90deg, ${[0, 1, 2, 3].map((i) => rgbCss(maskColor(i))).join(", ")})`,
                  }}
                  aria-hidden
                />{" "}
                drawn
              </li>
              <li>
                <span className="swatch" style={{ background: rgbCss(autoMaskColor(0)) }} aria-hidden />{" "}
                automatic
              </li>
              <li>
                <span
                  className="swatch swatch-proposed"
                  style={{ borderColor: rgbCss(autoMaskColor(0)) }}
                  aria-hidden
                />{" "}
                proposed: accept, fix or delete
              </li>
              {showUncovered ? (
                <li>
                  <span className="swatch swatch-uncovered" aria-hidden /> uncovered
                </li>
              ) : null}
            </ul>
          </section>
          <MaskList
            items={shown}
            selected={selected}
            meId={me.data?.id ?? null}
            canEditAll={ws.canEditAll}
            canReview={ws.canReview}
            maskModelVersions={ws.maskModelVersions}
            embeddingModelVersion={ws.modelVersionName}
            onApprove={(id) => review(id, "approved")}
            onReject={(id, reason) => review(id, "rejected", reason)}
            onCorrect={startCorrection}
            onAcceptProposal={acceptProposal}
            onFix={(id) => startCorrection(id, "edit")}
            onSelect={setSelected}
            onDelete={deleteMask}
            onRestore={(id) => changeStatus("restore", id)}
            confirmingDelete={confirmingDelete}
            onConfirmingDelete={setConfirmingDelete}
            onRelabel={relabel}
            onCutout={(id) => void cutout(id)}
          />
        </aside>
      </div>
      {help ? <HelpOverlay shortcuts={SHORTCUTS} onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
