/**
 * Pixels for the canvas: the draft mask straight from the decoder's 256x256 logits (the hot path after
 * every click), the saved masks as one overlay with outlines, and the full-resolution mask on accept.
 */
import { type BinaryMask, type CocoRle, decodeRle } from "@sas/sa1b";
import { lowResContentSize, SAM_LOW_RES_SIZE, stabilityScore, upscaleLowResLogits } from "@sas/sam";
import type { BrushStroke } from "./draft";

export type Rgb = readonly [number, number, number];

function hsl(hue: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return [f(0), f(8), f(4)];
}

/**
 * Hues of automatic masks (magenta, 280-320 degrees); people's masks keep clear of them by a margin on
 * each side, so what a pass proposed stands apart from what someone drew.
 */
const AUTO_HUE_FROM = 280;
const AUTO_HUE_SPAN = 40;
const AUTO_HUE_MARGIN = 25;

/** Well-separated hues, stable per index, for telling neighbouring masks apart (outside the automatic band). */
export function maskColor(index: number): Rgb {
  const free = 360 - AUTO_HUE_SPAN - 2 * AUTO_HUE_MARGIN;
  const spread = ((index * 137.508) % 360) * (free / 360);
  return hsl((AUTO_HUE_FROM + AUTO_HUE_SPAN + AUTO_HUE_MARGIN + spread) % 360, 0.75, 0.55);
}

/** Automatic masks: one magenta family, neighbours told apart by small hue and lightness steps. */
export function autoMaskColor(index: number): Rgb {
  const hue = AUTO_HUE_FROM + ((index * 7) % 5) * (AUTO_HUE_SPAN / 4);
  return hsl(hue, 0.85, [0.5, 0.62, 0.42][index % 3]!);
}

export type MaskOrigin = "manual" | "semi_auto" | "auto";

/** The colour a mask is drawn in, in the list and on the canvas alike. */
export const colorForMask = (source: MaskOrigin, index: number): Rgb =>
  source === "manual" ? maskColor(index) : autoMaskColor(index);

export const DRAFT_COLOR: Rgb = [30, 144, 255];

/**
 * Writes one candidate's logits into a 256x256 RGBA buffer: colour where the logit is above 0, clear
 * elsewhere, only inside the part of the frame that holds image content. The caller draws the buffer
 * scaled onto the image (bilinear smoothing softens the 4x steps, as SAM's own upsampling would).
 */
export function paintLowRes(
  out: ImageData,
  logits: Float32Array,
  imageWidth: number,
  imageHeight: number,
  color: Rgb = DRAFT_COLOR,
  alpha = 150,
): { width: number; height: number } {
  const n = SAM_LOW_RES_SIZE;
  const content = lowResContentSize(imageWidth, imageHeight);
  const w = Math.min(n, Math.ceil(content.width));
  const h = Math.min(n, Math.ceil(content.height));
  const px = new Uint32Array(out.data.buffer, out.data.byteOffset, n * n);
  // ImageData is RGBA in memory; on little-endian machines that is ABGR as a uint32.
  const on = ((alpha << 24) | (color[2] << 16) | (color[1] << 8) | color[0]) >>> 0;
  px.fill(0);
  for (let y = 0; y < h; y++) {
    const row = y * n;
    for (let x = 0; x < w; x++) if (logits[row + x]! > 0) px[row + x] = on;
  }
  return content;
}

/** One mask's pixels as an RGBA image at full resolution, in one colour (the mask being corrected). */
export function paintMask(rle: CocoRle, color: Rgb = DRAFT_COLOR): ImageData {
  const mask = decodeRle(rle);
  const out = new ImageData(mask.width, mask.height);
  const px = new Uint32Array(out.data.buffer);
  const on = ((255 << 24) | (color[2] << 16) | (color[1] << 8) | color[0]) >>> 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) px[i] = on;
  return out;
}

export interface OverlayMask {
  rle: CocoRle;
  color: Rgb;
  highlighted?: boolean;
  /** A proposal waiting for a decision: dashed outline, fainter fill. */
  proposed?: boolean;
}

/** Dashes of the proposed masks' outline: 4 pixels on, 4 off, along any direction. */
const dashOn = (x: number, y: number) => ((x + y) & 7) < 4;

/** Longest side of the saved-mask overlay; larger images get a proportionally scaled overlay. */
export const OVERLAY_MAX_SIDE = 2048;

/**
 * All saved masks in one RGBA image: translucent fill, opaque outline, later masks on top. Masks are
 * painted from their RLE runs into a label map, so no per-mask canvas exists.
 */
export function paintOverlay(masks: readonly OverlayMask[], width: number, height: number): ImageData {
  const scale = Math.min(1, OVERLAY_MAX_SIDE / Math.max(width, height));
  const ow = Math.max(1, Math.round(width * scale));
  const oh = Math.max(1, Math.round(height * scale));
  const labels = new Int32Array(ow * oh).fill(-1);
  const colX = new Int32Array(width);
  for (let x = 0; x < width; x++) colX[x] = Math.min(ow - 1, Math.floor(x * scale));
  const rowY = new Int32Array(height);
  for (let y = 0; y < height; y++) rowY[y] = Math.min(oh - 1, Math.floor(y * scale));
  masks.forEach((m, index) => {
    const [h, w] = m.rle.size;
    if (h !== height || w !== width) return;
    const { data } = decodeRle(m.rle);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      const orow = rowY[y]! * ow;
      for (let x = 0; x < width; x++) if (data[row + x]) labels[orow + colX[x]!] = index;
    }
  });
  const out = new ImageData(ow, oh);
  const px = out.data;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = y * ow + x;
      const label = labels[i]!;
      if (label < 0) continue;
      const m = masks[label]!;
      const edge =
        x === 0 ||
        y === 0 ||
        x === ow - 1 ||
        y === oh - 1 ||
        labels[i - 1] !== label ||
        labels[i + 1] !== label ||
        labels[i - ow] !== label ||
        labels[i + ow] !== label;
      if (edge && m.proposed && !dashOn(x, y)) {
        // the gap of a dash: white, so the outline reads as dashed on any image
        px[4 * i] = 255;
        px[4 * i + 1] = 255;
        px[4 * i + 2] = 255;
        px[4 * i + 3] = 200;
        continue;
      }
      px[4 * i] = m.color[0];
      px[4 * i + 1] = m.color[1];
      px[4 * i + 2] = m.color[2];
      px[4 * i + 3] = edge ? 255 : m.highlighted ? 150 : m.proposed ? 60 : 95;
    }
  }
  return out;
}

/** Something with a 2-D context the size of the image: a canvas or an OffscreenCanvas. */
export interface RasterCanvas {
  getContext(type: "2d"): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
}

/** Draws the strokes as round lines of their radius: paint adds pixels, erase removes them. */
export function drawStrokes(
  ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D,
  strokes: readonly BrushStroke[],
): void {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of strokes) {
    ctx.globalCompositeOperation = s.mode === "paint" ? "source-over" : "destination-out";
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = 2 * s.radius;
    ctx.beginPath();
    if (s.points.length === 2) {
      ctx.arc(s.points[0]!, s.points[1]!, s.radius, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.moveTo(s.points[0]!, s.points[1]!);
    for (let i = 2; i + 1 < s.points.length; i += 2) ctx.lineTo(s.points[i]!, s.points[i + 1]!);
    ctx.stroke();
  }
  ctx.globalCompositeOperation = "source-over";
}

export interface FinalMask {
  mask: BinaryMask;
  /** From the decoder's logits; null for a mask drawn with the brush alone. */
  stabilityScore: number | null;
}

/**
 * The mask to save, at original resolution: the shown candidate's logits upscaled exactly as SAM does,
 * thresholded (or, without prompts, the `base` mask being corrected), then the brush strokes applied in
 * order (the same compositing the screen shows).
 */
export function finalMask(
  logits: Float32Array | null,
  strokes: readonly BrushStroke[],
  width: number,
  height: number,
  canvas: RasterCanvas,
  base: CocoRle | null = null,
): FinalMask {
  const full = logits ? upscaleLowResLogits(logits, width, height) : null;
  let data = new Uint8Array(width * height);
  if (full) for (let i = 0; i < data.length; i++) data[i] = full[i]! > 0 ? 1 : 0;
  else if (base) data = decodeRle(base).data.slice();
  if (strokes.length > 0) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2d canvas for the brush strokes");
    const img = ctx.createImageData(width, height);
    for (let i = 0; i < data.length; i++) if (data[i]) img.data[4 * i + 3] = 255;
    ctx.putImageData(img, 0, 0);
    drawStrokes(ctx, strokes);
    const px = ctx.getImageData(0, 0, width, height).data;
    for (let i = 0; i < data.length; i++) data[i] = px[4 * i + 3]! >= 128 ? 1 : 0;
  }
  return { mask: { width, height, data }, stabilityScore: full ? stabilityScore(full) : null };
}
