/**
 * The automatic passes' parameters as the admin form shows them: one number input per AutoMaskParams
 * field (what it means, its bounds), the form's text values to and from numbers, and a one-line summary.
 * The server validates again (zod); these bounds only keep obvious mistakes from being sent.
 */
import type { RouterOutputs } from "@sas/api";

export type AutoMaskParams = RouterOutputs["pass"]["defaults"]["params"];
export type ParamKey = keyof AutoMaskParams;

export interface ParamField {
  key: ParamKey;
  label: string;
  help: string;
  integer: boolean;
  min: number;
  max: number;
  step: number;
}

/** In the order SAM's automatic mask generator takes them. */
export const PARAM_FIELDS: readonly ParamField[] = [
  {
    key: "pointsPerSide",
    label: "Points per side",
    help: "The grid of point prompts over the image: n × n points.",
    integer: true,
    min: 1,
    max: 128,
    step: 1,
  },
  {
    key: "pointsPerBatch",
    label: "Points per batch",
    help: "Prompts decoded in one run of the decoder.",
    integer: true,
    min: 1,
    max: 1024,
    step: 1,
  },
  {
    key: "predIouThresh",
    label: "Predicted IoU threshold",
    help: "Keep masks the model itself rates at least this good.",
    integer: false,
    min: 0,
    max: 1,
    step: 0.01,
  },
  {
    key: "stabilityScoreThresh",
    label: "Stability score threshold",
    help: "Keep masks that barely change when the logit cut-off moves by the offset.",
    integer: false,
    min: 0,
    max: 1,
    step: 0.01,
  },
  {
    key: "stabilityScoreOffset",
    label: "Stability score offset",
    help: "How far the cut-off moves for the stability score.",
    integer: false,
    min: 0,
    max: 10,
    step: 0.1,
  },
  {
    key: "boxNmsThresh",
    label: "Box NMS threshold",
    help: "Of two masks whose boxes overlap more than this (IoU), keep the better one.",
    integer: false,
    min: 0,
    max: 1,
    step: 0.01,
  },
  {
    key: "cropNLayers",
    label: "Crop layers",
    help: "Zoomed-in passes: layer k splits the image into 2^k × 2^k overlapping crops.",
    integer: true,
    min: 0,
    max: 4,
    step: 1,
  },
  {
    key: "cropNmsThresh",
    label: "Crop NMS threshold",
    help: "Box NMS across crops; masks from smaller crops win.",
    integer: false,
    min: 0,
    max: 1,
    step: 0.01,
  },
  {
    key: "cropOverlapRatio",
    label: "Crop overlap ratio",
    help: "How much neighbouring crops overlap, as a share of the image's longer side.",
    integer: false,
    min: 0,
    max: 1,
    step: 0.01,
  },
  {
    key: "cropNPointsDownscaleFactor",
    label: "Crop points downscale",
    help: "Points per side in crop layer k are divided by this to the power k.",
    integer: true,
    min: 1,
    max: 16,
    step: 1,
  },
  {
    key: "minMaskRegionArea",
    label: "Min region area (px)",
    help: "Above 0: remove islands and fill holes smaller than this, then drop duplicates again.",
    integer: true,
    min: 0,
    max: 1_000_000,
    step: 1,
  },
];

export type ParamTexts = Record<ParamKey, string>;

export function paramsToTexts(params: AutoMaskParams): ParamTexts {
  const texts = {} as ParamTexts;
  for (const f of PARAM_FIELDS) texts[f.key] = String(Number(params[f.key].toFixed(6)));
  return texts;
}

/** The typed parameters, or the first field that is not a valid number, with why. */
export function parseParamTexts(
  texts: ParamTexts,
): { ok: true; params: AutoMaskParams } | { ok: false; field: ParamKey; message: string } {
  const params = {} as AutoMaskParams;
  for (const f of PARAM_FIELDS) {
    const raw = texts[f.key].trim();
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value))
      return { ok: false, field: f.key, message: `${f.label}: a number is needed` };
    if (f.integer && !Number.isInteger(value))
      return { ok: false, field: f.key, message: `${f.label}: a whole number is needed` };
    if (value < f.min || value > f.max)
      return { ok: false, field: f.key, message: `${f.label}: between ${f.min} and ${f.max}` };
    params[f.key] = value;
  }
  return { ok: true, params };
}

/**
 * What the admin changed: only the fields whose text differs from the stage's defaults. Untouched fields
 * stay the server's exact defaults (the form shows 512/1500 as 0.341333), so a pass started with the
 * defaults has the same parameters, and so replaces the same earlier results, as one started elsewhere.
 */
export function changedParams(
  texts: ParamTexts,
  parsed: AutoMaskParams,
  defaults: AutoMaskParams,
): Partial<AutoMaskParams> {
  const shown = paramsToTexts(defaults);
  const changed: Partial<AutoMaskParams> = {};
  for (const f of PARAM_FIELDS) if (texts[f.key].trim() !== shown[f.key]) changed[f.key] = parsed[f.key];
  return changed;
}

/** "32×32 points + 1 crop layer · IoU ≥ 0.88 · stability ≥ 0.95" */
export function summarizeParams(p: AutoMaskParams): string {
  const crops =
    p.cropNLayers === 0 ? "no crops" : `${p.cropNLayers} crop layer${p.cropNLayers === 1 ? "" : "s"}`;
  return `${p.pointsPerSide}×${p.pointsPerSide} points + ${crops} · IoU ≥ ${p.predIouThresh} · stability ≥ ${p.stabilityScoreThresh}`;
}

/** "45 s", "3 min 05 s", "1 h 02 min"; null (unknown) as a dash. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export const stageNames = { semi_automatic: "semi-automatic", fully_automatic: "fully automatic" } as const;

export type PassStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export const isActive = (status: PassStatus) => status === "queued" || status === "running";
