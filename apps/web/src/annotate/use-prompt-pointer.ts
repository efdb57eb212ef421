"use client";

/**
 * The pointer on the canvas: SAM clicks (left: object, right or Alt: background), box drags, brush and
 * eraser strokes, and the look-ahead that decodes where the cursor rests so a click there answers at once.
 */
import type { BoxPrompt, PointPrompt } from "@sas/sam";
import { type RefObject, useCallback, useMemo, useRef, useState } from "react";
import { type ActivityKind, recordActivity } from "./activity";
import type { CanvasPointerEvent, CanvasViewHandle } from "./canvas-view";
import { type DecoderClient, SupersededError } from "./decoder/decoder-client";
import {
  type BrushStroke,
  chosenLogits,
  decodedFor,
  draftPrompt,
  emptyDraft,
  isEmptyDraft,
  likelyLabel,
  withDecoded,
} from "./draft";
import { type PerfSample, recordPerf } from "./perf";
import { lookAheadAllowed } from "./services";
import type { DraftApi } from "./use-draft";

export type Tool = "prompt" | "brush" | "eraser";

/** The cursor resting this long (ms) after a prompt starts decoding a click there. */
const REST_MS = 30;

/** A drag shorter than this (screen pixels) is a click, not a box. */
const DRAG_THRESHOLD_PX = 5;

/** A box dragged in any direction, clamped to the image. */
export function clampBox(b: BoxPrompt, width: number, height: number): BoxPrompt {
  return {
    x0: Math.max(0, Math.min(width, Math.min(b.x0, b.x1))),
    y0: Math.max(0, Math.min(height, Math.min(b.y0, b.y1))),
    x1: Math.max(0, Math.min(width, Math.max(b.x0, b.x1))),
    y1: Math.max(0, Math.min(height, Math.max(b.y0, b.y1))),
  };
}

interface Press {
  x: number;
  y: number;
  screenScale: number;
  time: number;
  label: 0 | 1;
  /** A plain left press may become a box drag. */
  mayDrag: boolean;
  atPress: PerfSample["atPress"];
}

export function usePromptPointer(args: {
  imageId: string;
  width: number;
  height: number;
  tool: Tool;
  brushRadius: number;
  hoverEnabled: boolean;
  decoder: DecoderClient | null;
  embeddingReady: boolean;
  canvas: RefObject<CanvasViewHandle | null>;
  draft: Pick<DraftApi, "draftRef" | "paintDraft" | "commitDraftChange">;
  onMessage: (message: string | null) => void;
}) {
  const { imageId, width, height, tool, brushRadius, hoverEnabled, decoder, embeddingReady, canvas } = args;
  const { draftRef, paintDraft, commitDraftChange } = args.draft;
  const { onMessage } = args;
  const [liveStroke, setLiveStroke] = useState<BrushStroke | null>(null);
  const [dragBox, setDragBox] = useState<BoxPrompt | null>(null);
  const pressed = useRef<Press | null>(null);
  const lookAheadOn = useMemo(() => typeof window !== "undefined" && lookAheadAllowed(), []);
  const restTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const restingAt = useRef<{ x: number; y: number } | null>(null);

  const inImage = (p: { x: number; y: number }) => p.x >= 0 && p.y >= 0 && p.x < width && p.y < height;

  const decodePrompt = useCallback(
    async (
      points: PointPrompt[],
      box: BoxPrompt | null,
      kind: ActivityKind,
      eventTime: number,
      atPress?: PerfSample["atPress"],
    ) => {
      if (!decoder || !embeddingReady) {
        onMessage("The model is still loading; try again in a moment.");
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
        if (!(error instanceof SupersededError)) onMessage(`Decoding failed: ${(error as Error).message}`);
      }
    },
    [decoder, embeddingReady, imageId, paintDraft, commitDraftChange, draftRef, onMessage],
  );

  /**
   * The click the cursor is resting on, decoded ahead so that clicking there shows its mask at once:
   * before the first prompt that is the hover preview (painted when hover is on); after it the next click
   * (not painted), with the label it most likely gets, then with the other one while the cursor stays.
   * The latest position wins; nothing queues up.
   */
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
    [decoder, embeddingReady, hoverEnabled, lookAheadOn, imageId, paintDraft, width, height, draftRef],
  );

  /** The cursor moved, left or pressed: no look-ahead waits for it any more. */
  const stopResting = () => {
    if (restTimer.current) clearTimeout(restTimer.current);
    restTimer.current = null;
    restingAt.current = null;
  };

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
    pressed.current = {
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
    const down = pressed.current;
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
    const down = pressed.current;
    pressed.current = null;
    if (!down) return;
    const d = draftRef.current;
    if (dragBox) {
      setDragBox(null);
      const box = clampBox(dragBox, width, height);
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

  return { liveStroke, dragBox, onPointerDown, onPointerMove, onPointerUp, onPointerLeave };
}
