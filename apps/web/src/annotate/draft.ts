/**
 * The mask being made: prompts, brush strokes and the decoder's answer. Plain data, changed only by the
 * pure functions below, so undo/redo is a stack of snapshots and a reload can restore it from storage.
 */

import type { CocoRle } from "@sas/sa1b";
import type { BoxPrompt, PointPrompt, SamPrompt } from "@sas/sam";
import {
  decoderPointCount,
  fromFloat16,
  lowResContentSize,
  SAM_LOW_RES_SIZE,
  selectStockCandidate,
  toFloat16,
} from "@sas/sam";
import { z } from "zod";
import { type Activity, emptyActivity } from "./activity";

export const LOW_RES_AREA = SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE;
export const CANDIDATES = 4;

export interface BrushStroke {
  mode: "paint" | "erase";
  /** In original-image pixels. */
  radius: number;
  /** Flat [x0, y0, x1, y1, ...] in original-image pixels. */
  points: number[];
}

/** The decoder's answer for the draft's current prompts: all four candidates' 256x256 logits. */
export interface Decoded {
  lowRes: Float32Array;
  iou: number[];
  /** Decoder points the prompt became (clicks + box corners or padding), for SAM's candidate choice. */
  decoderPoints: number;
}

export interface Draft {
  points: PointPrompt[];
  box: BoxPrompt | null;
  strokes: BrushStroke[];
  decoded: Decoded | null;
  /** Index 0-3 of the candidate shown; see `defaultCandidate`. */
  candidate: number;
  label: string;
  activity: Activity;
  /**
   * A saved mask being corrected: its pixels are the starting point (SAM prompts, when made, replace
   * them; brush strokes edit either). A reviewer's correction (`review`) is saved as a review of that mask
   * version; an annotator fixing an automatic proposal (`edit`) saves new pixels and accepts it.
   */
  correcting: { maskId: string; version: number; rle: CocoRle; mode: "review" | "edit" } | null;
}

export const emptyDraft = (): Draft => ({
  points: [],
  box: null,
  strokes: [],
  decoded: null,
  candidate: 0,
  label: "",
  activity: emptyActivity(),
  correcting: null,
});

export const hasPrompt = (d: Draft) => d.points.length > 0 || d.box !== null;
export const isEmptyDraft = (d: Draft) => !hasPrompt(d) && d.strokes.length === 0 && d.correcting === null;

/** The draft's prompt as the decoder takes it; refinement feeds the shown candidate's logits back. */
export function draftPrompt(d: Draft, points = d.points, box = d.box): SamPrompt {
  const prompt: SamPrompt = { points };
  if (box) prompt.box = box;
  const previous = chosenLogits(d);
  if (previous) prompt.maskInput = previous;
  return prompt;
}

/** The logits of the candidate on screen, or null before the first decode. */
export function chosenLogits(d: Draft): Float32Array | null {
  if (!d.decoded) return null;
  return d.decoded.lowRes.subarray(d.candidate * LOW_RES_AREA, (d.candidate + 1) * LOW_RES_AREA);
}

/**
 * The label a click at image pixel (x, y) most likely gets next: background inside the mask on screen
 * (people click where SAM took too much), foreground outside it.
 */
export function likelyLabel(d: Draft, x: number, y: number, width: number, height: number): 0 | 1 {
  const logits = chosenLogits(d);
  if (!logits) return 1;
  const content = lowResContentSize(width, height);
  const i = Math.min(SAM_LOW_RES_SIZE - 1, Math.max(0, Math.floor((y / height) * content.height)));
  const j = Math.min(SAM_LOW_RES_SIZE - 1, Math.max(0, Math.floor((x / width) * content.width)));
  return logits[i * SAM_LOW_RES_SIZE + j]! > 0 ? 0 : 1;
}

/**
 * Whether SAM's three ambiguity choices apply: a single click or a box alone (the stock decoder
 * chooses among tokens 1-3 then). With more prompts the single-mask token 0 is the answer.
 */
export const offersChoices = (decoded: Decoded | null) => !!decoded && decoded.decoderPoints <= 2;

export function defaultCandidate(decoded: Decoded): number {
  return selectStockCandidate(decoded.iou, decoded.decoderPoints);
}

/** A new decoder answer for `points`/`box`: the draft's prompts become those, the default candidate shows. */
export function withDecoded(d: Draft, points: PointPrompt[], box: BoxPrompt | null, decoded: Decoded): Draft {
  return { ...d, points, box, decoded, candidate: defaultCandidate(decoded) };
}

export function withCandidate(d: Draft, candidate: number): Draft {
  if (!offersChoices(d.decoded) || candidate < 1 || candidate > 3) return d;
  return { ...d, candidate };
}

export const decodedFor = (lowRes: Float32Array, iou: ArrayLike<number>, prompt: SamPrompt): Decoded => ({
  lowRes,
  iou: Array.from(iou),
  decoderPoints: decoderPointCount(prompt),
});

/** Undo/redo over draft snapshots plus the accepts and deletes the caller turns into API calls. */
export type HistoryEntry<M> =
  | { kind: "draft"; before: Draft; after: Draft }
  | { kind: "accept"; before: Draft; mask: M }
  | { kind: "delete"; mask: M };

export interface History<M> {
  past: HistoryEntry<M>[];
  future: HistoryEntry<M>[];
}

/** Enough for an afternoon of work on one image; older steps drop off. */
export const HISTORY_LIMIT = 200;

export const emptyHistory = <M>(): History<M> => ({ past: [], future: [] });

export function pushHistory<M>(h: History<M>, entry: HistoryEntry<M>): History<M> {
  return { past: [...h.past, entry].slice(-HISTORY_LIMIT), future: [] };
}

export function popUndo<M>(h: History<M>): { entry: HistoryEntry<M>; history: History<M> } | null {
  const entry = h.past.at(-1);
  if (!entry) return null;
  return { entry, history: { past: h.past.slice(0, -1), future: [entry, ...h.future] } };
}

export function popRedo<M>(h: History<M>): { entry: HistoryEntry<M>; history: History<M> } | null {
  const entry = h.future[0];
  if (!entry) return null;
  return { entry, history: { past: [...h.past, entry], future: h.future.slice(1) } };
}

// --- persistence: a half-made mask survives a reload -------------------------------------------------

const pointSchema = z.object({ x: z.number(), y: z.number(), label: z.union([z.literal(0), z.literal(1)]) });
const boxSchema = z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() });
const strokeSchema = z.object({
  mode: z.enum(["paint", "erase"]),
  radius: z.number().positive(),
  points: z.array(z.number()),
});
const storedDraftSchema = z.object({
  v: z.literal(1),
  points: z.array(pointSchema),
  box: boxSchema.nullable(),
  strokes: z.array(strokeSchema),
  decoded: z
    .object({
      lowRes: z.string(),
      iou: z.array(z.number()).length(CANDIDATES),
      decoderPoints: z.number().int().positive(),
    })
    .nullable(),
  candidate: z.number().int().min(0).max(3),
  label: z.string(),
  correcting: z
    .object({
      maskId: z.string(),
      version: z.number().int(),
      rle: z.object({ size: z.tuple([z.number(), z.number()]), counts: z.string() }),
      // drafts stored before fixing existed were all reviewers' corrections
      mode: z.enum(["review", "edit"]).default("review"),
    })
    .nullable()
    .default(null),
  activity: z.object({
    startedAt: z.number().nullable(),
    lastAt: z.number().nullable(),
    activeMs: z.number(),
    clicks: z.number().int(),
    boxes: z.number().int(),
    brushStrokes: z.number().int(),
    undos: z.number().int(),
  }),
});

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** JSON for storage; the candidate logits go as float16 (512 KiB of float32 would crowd localStorage). */
export function serializeDraft(d: Draft): string {
  const decoded = d.decoded
    ? {
        lowRes: toBase64(new Uint8Array(toFloat16(d.decoded.lowRes).buffer)),
        iou: d.decoded.iou,
        decoderPoints: d.decoded.decoderPoints,
      }
    : null;
  return JSON.stringify({ v: 1, ...d, decoded });
}

/** The stored draft, or null when there is none or it is unreadable (then it is simply not restored). */
export function parseDraft(json: string | null): Draft | null {
  if (!json) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = storedDraftSchema.safeParse(raw);
  if (!parsed.success) return null;
  const { v: _v, decoded, box, ...rest } = parsed.data;
  let restored: Decoded | null = null;
  if (decoded) {
    const bytes = fromBase64(decoded.lowRes);
    if (bytes.length !== CANDIDATES * LOW_RES_AREA * 2) return null;
    restored = { ...decoded, lowRes: fromFloat16(new Uint16Array(bytes.buffer)) };
  }
  return { ...rest, box: box ?? null, decoded: restored };
}

export const draftStorageKey = (imageId: string) => `sas.draft.v1.${imageId}`;
