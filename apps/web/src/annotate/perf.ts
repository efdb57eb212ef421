/**
 * What the annotation page exposes on `window` for the end-to-end tests and `bench:decode`: one sample per
 * decoded prompt shown, the decoder's backend and counters, and image-to-page coordinates.
 */
export interface PerfSample {
  kind: "click" | "box" | "hover";
  /** Pointer event to draft layer painted. */
  eventToPaintMs: number;
  /** Inside the worker (feeds + session.run). */
  decodeMs: number;
  /** session.run alone. */
  runMs: number;
  /** A click's decode when it was pressed: already answered by the look-ahead, under way, or not started. */
  atPress?: "answered" | "decoding" | "none";
  /** When the mask was painted: ms since the page's navigation started (performance.now()). */
  paintedAt: number;
}

/** One step of opening the annotation page, and when it ended (ms since navigation started). */
export interface OpenMark {
  step: string;
  atMs: number;
}

declare global {
  interface Window {
    __sasDecodePerf?: PerfSample[];
    __sasDecoderInfo?: { backend: string; threads: number; loadMs: number };
    /** Decodes sent to the worker and finished (see DecoderClient). */
    __sasDecoderCounts?: { sent: number; done: number };
    /** For end-to-end tests and the decode benchmark: image pixels to page coordinates. */
    __sasToScreen?: (x: number, y: number) => { x: number; y: number } | null;
    /** How opening the page went, step by step (see `markOpen`), for bench:open. */
    __sasOpenTimeline?: OpenMark[];
  }
}

/** Records that a step of opening the page ended now (the first time only: reloads of data don't count). */
export function markOpen(step: string, atMs = performance.now()) {
  window.__sasOpenTimeline ??= [];
  if (!window.__sasOpenTimeline.some((m) => m.step === step)) window.__sasOpenTimeline.push({ step, atMs });
}

export function recordPerf(sample: Omit<PerfSample, "paintedAt">) {
  window.__sasDecodePerf ??= [];
  window.__sasDecodePerf.push({ ...sample, paintedAt: performance.now() });
}
