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
}

declare global {
  interface Window {
    __sasDecodePerf?: PerfSample[];
    __sasDecoderInfo?: { backend: string; threads: number; loadMs: number };
    /** Decodes sent to the worker and finished (see DecoderClient). */
    __sasDecoderCounts?: { sent: number; done: number };
    /** For end-to-end tests and the decode benchmark: image pixels to page coordinates. */
    __sasToScreen?: (x: number, y: number) => { x: number; y: number } | null;
  }
}

export function recordPerf(sample: PerfSample) {
  window.__sasDecodePerf ??= [];
  window.__sasDecodePerf.push(sample);
}
