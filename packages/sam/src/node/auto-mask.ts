/**
 * SAM's fully automatic mask generation (`SamAutomaticMaskGenerator.generate`) on onnxruntime-node: the
 * pure steps live in `../amg`; this module runs the encoder per crop and the decoder per batch of points.
 * Speed comes from the order of work: the decoder returns only 256x256 logits, the predicted-IoU and a
 * low-res stability pre-test drop most candidates before any upsampling, and RLE encoding happens only
 * for the masks that survive every filter.
 */
import {
  type AutoMask,
  type AutoMaskParams,
  type AutoMaskStats,
  autoMaskParamsSchema,
  batchProposals,
  buildAllLayerPointGrids,
  buildPointGrid,
  type CropBox,
  dedupeAcrossCrops,
  emptyFilterCounts,
  type FilterCounts,
  finishCrop,
  generateCropBoxes,
  maskToPatch,
  type PointDecoder,
  type Proposal,
  pointsPerSideByLayer,
  removeSmallRegionsAndDedupe,
  scaleGridToCrop,
  toAutoMask,
} from "../amg";
import type { ImageEmbedding } from "../types";
import { type DecodedImage, type RawRgb, resizeForSam } from "./decode-image";
import type { NodeSam, SamImageInput } from "./session";

export interface AutoMaskOptions {
  /** Checked before each encoder run and each decoder batch; an aborted pass throws the signal's reason. */
  signal?: AbortSignal;
  /** Share of the pass's points decoded so far, 0..1, after every batch. */
  onProgress?: (fraction: number) => void;
}

export interface AutoMaskResult {
  /** In SAM's output order: as the last NMS left them (smaller crops first, then predicted IoU). */
  masks: AutoMask[];
  stats: AutoMaskStats;
}

/** Rows y0..y1-1, columns x0..x1-1 of interleaved RGB (SAM's `image[y0:y1, x0:x1, :]`). */
function cropRgb(rgb: RawRgb, [x0, y0, x1, y1]: CropBox["box"]): RawRgb {
  const width = x1 - x0;
  const height = y1 - y0;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = ((y0 + y) * rgb.width + x0) * 3;
    data.set(rgb.data.subarray(src, src + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/** The encoder input for one crop: the already resized image for the whole-image crop, else crop + resize. */
async function cropInput(image: DecodedImage, crop: CropBox): Promise<SamImageInput> {
  const [x0, y0, x1, y1] = crop.box;
  if (x0 === 0 && y0 === 0 && x1 === image.width && y1 === image.height) {
    return { width: image.width, height: image.height, resized: image.resized };
  }
  if (!image.original) {
    throw new Error("crop layers need the full-resolution image: decodeImage(bytes, { keepOriginal: true })");
  }
  if (image.original.width !== image.width || image.original.height !== image.height) {
    throw new Error(
      `original RGB is ${image.original.width}x${image.original.height}, image is ${image.width}x${image.height}`,
    );
  }
  const rgb = cropRgb(image.original, crop.box);
  return { width: rgb.width, height: rgb.height, resized: await resizeForSam(rgb) };
}

/**
 * The image-level end of both generators: drop small regions and holes, NMS once more across the cleaned
 * masks, count what is left, and turn it into output records.
 */
function finishImage(
  proposals: readonly Proposal[],
  p: Pick<AutoMaskParams, "boxNmsThresh" | "cropNmsThresh" | "minMaskRegionArea">,
  W: number,
  H: number,
  counts: FilterCounts,
): AutoMask[] {
  const cleaned = removeSmallRegionsAndDedupe(
    proposals,
    p.minMaskRegionArea,
    Math.max(p.boxNmsThresh, p.cropNmsThresh),
    W,
    H,
    counts,
  );
  counts.final = cleaned.length;
  return cleaned.map((proposal) => toAutoMask(proposal, W, H));
}

/** What the decoding half of the generator leaves: each crop's proposals, before NMS, in the crop's frame. */
export interface CropProposals {
  crops: CropBox[];
  /** `perCrop[i]` belongs to `crops[i]`: candidates that passed the thresholds and the crop-edge filter. */
  perCrop: Proposal[][];
  counts: FilterCounts;
  points: number;
  encodeMs: number;
  decodeMs: number;
}

/**
 * The expensive half of SAM's generator: for every crop (whole image first), encode it once and decode its
 * point grid in batches, keeping the candidates that pass predicted IoU, stability and the crop-edge
 * filter (`batchProposals`). Nothing here depends on the NMS settings, so a caller may decode once at loose
 * thresholds and assemble many times at stricter ones (`bench:amg --sweep` does).
 */
export async function decodeCropProposals(
  encoder: { encode(image: SamImageInput): Promise<ImageEmbedding> },
  decoder: PointDecoder,
  image: DecodedImage,
  p: AutoMaskParams,
  { signal, onProgress }: AutoMaskOptions = {},
): Promise<CropProposals> {
  const { width: W, height: H } = image;
  const grids = buildAllLayerPointGrids(pointsPerSideByLayer(p));
  const crops = generateCropBoxes(W, H, p.cropNLayers, p.cropOverlapRatio);
  const totalPoints = crops.reduce((n, c) => n + grids[c.layer]!.length / 2, 0);
  const counts = emptyFilterCounts();
  let encodeMs = 0;
  let decodeMs = 0;
  let donePoints = 0;
  const perCrop: Proposal[][] = [];
  for (const crop of crops) {
    signal?.throwIfAborted();
    const input = await cropInput(image, crop);
    const encodeStart = performance.now();
    const embedding = await encoder.encode(input);
    encodeMs += performance.now() - encodeStart;

    const frame = { cropBox: crop.box, imageWidth: W, imageHeight: H };
    const points = scaleGridToCrop(grids[crop.layer]!, input.width, input.height);
    const inCrop: Proposal[] = [];
    for (let first = 0; first < points.length / 2; first += p.pointsPerBatch) {
      signal?.throwIfAborted();
      const batch = points.subarray(2 * first, 2 * Math.min(first + p.pointsPerBatch, points.length / 2));
      const decodeStart = performance.now();
      const decoded = await decoder.decodePoints(embedding, batch);
      decodeMs += performance.now() - decodeStart;
      for (const proposal of batchProposals(decoded, batch, frame, p, counts)) inCrop.push(proposal);
      donePoints += batch.length / 2;
      onProgress?.(donePoints / totalPoints);
    }
    perCrop.push(inCrop);
  }
  return { crops, perCrop, counts, points: totalPoints, encodeMs, decodeMs };
}

/**
 * The NMS stages of the cheap half: box NMS within each crop (then into the image's frame), NMS across
 * crops preferring smaller crops. `counts` receives the counts of these stages.
 */
export function suppressDuplicates(
  decoded: Pick<CropProposals, "crops" | "perCrop">,
  p: Pick<AutoMaskParams, "boxNmsThresh" | "cropNmsThresh">,
  counts: FilterCounts,
): Proposal[] {
  const fromCrops: Proposal[] = [];
  for (const [i, crop] of decoded.crops.entries()) {
    for (const proposal of finishCrop(decoded.perCrop[i]!, crop.box, p.boxNmsThresh, counts)) {
      fromCrops.push(proposal);
    }
  }
  return dedupeAcrossCrops(fromCrops, decoded.crops.length, p.cropNmsThresh, counts);
}

/**
 * The cheap half: `suppressDuplicates`, optional small-region cleanup, output records. `counts` receives
 * the counts of these stages.
 */
export function assembleAutoMasks(
  decoded: Pick<CropProposals, "crops" | "perCrop">,
  p: Pick<AutoMaskParams, "boxNmsThresh" | "cropNmsThresh" | "minMaskRegionArea">,
  W: number,
  H: number,
  counts: FilterCounts,
): AutoMask[] {
  return finishImage(suppressDuplicates(decoded, p, counts), p, W, H, counts);
}

/**
 * Runs the automatic mask generator on one image with SAM's semantics for every parameter (see `../amg`):
 * point grid per crop layer, crops with their own embeddings, batched multimask decoding, predicted-IoU and
 * stability filters, crop-edge filter, box NMS per crop, NMS across crops preferring smaller crops, optional
 * small-region cleanup, SAM's output records.
 */
export async function generateAutoMasks(
  encoder: { encode(image: SamImageInput): Promise<ImageEmbedding> },
  decoder: PointDecoder,
  image: DecodedImage,
  params: AutoMaskParams,
  options: AutoMaskOptions = {},
): Promise<AutoMaskResult> {
  const start = performance.now();
  const p = autoMaskParamsSchema.parse(params);
  const decoded = await decodeCropProposals(encoder, decoder, image, p, options);
  const { counts } = decoded;
  const masks = assembleAutoMasks(decoded, p, image.width, image.height, counts);
  return {
    masks,
    stats: {
      filterCounts: { ...counts },
      crops: decoded.crops.length,
      points: decoded.points,
      encodeMs: decoded.encodeMs,
      decodeMs: decoded.decodeMs,
      totalMs: performance.now() - start,
    },
  };
}

/**
 * The generator's decoder on NodeSam's derived multi-mask decoder: each batch is one decoder run with one
 * foreground point per prompt plus SAM's padding point (what SAM's predictor adds for a prompt without a
 * box), fetching only the low-res logits and IoU predictions.
 */
export function stockPointDecoder(sam: NodeSam): PointDecoder {
  return {
    decodePoints(embedding, points) {
      const prompts = [];
      for (let i = 0; i < points.length; i += 2) {
        prompts.push({ points: [{ x: points[i]!, y: points[i + 1]!, label: 1 as const }] });
      }
      return sam.decodeLowResBatch(embedding, prompts);
    },
  };
}

/**
 * The baseline the automatic pass is measured against: SAM's generator over the whole image only (crop
 * layers are refused), computed the straightforward way — one point per decoder run, the stock decoder's
 * three candidates at full resolution (`NodeSam.decode` with `multimask`), SAM's filters on those
 * full-resolution logits, box NMS, small regions, output records. Same semantics as `generateAutoMasks`
 * without crops; it exists to measure speed and to check that the fast path finds the same masks.
 */
export async function generatePlainAutoMasks(
  sam: NodeSam,
  image: DecodedImage,
  params: AutoMaskParams,
  options: AutoMaskOptions = {},
): Promise<AutoMaskResult> {
  const start = performance.now();
  const p = autoMaskParamsSchema.parse(params);
  if (p.cropNLayers !== 0)
    throw new RangeError("the plain baseline runs without crop layers (cropNLayers 0)");
  const { signal, onProgress } = options;
  const { width: W, height: H } = image;
  const cropBox: CropBox["box"] = [0, 0, W, H];
  const points = scaleGridToCrop(buildPointGrid(p.pointsPerSide), W, H);
  const counts = emptyFilterCounts();
  const encodeStart = performance.now();
  const embedding = await sam.encode(image);
  const encodeMs = performance.now() - encodeStart;
  let decodeMs = 0;
  const proposals: Proposal[] = [];
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    signal?.throwIfAborted();
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    const decodeStart = performance.now();
    const { candidates } = await sam.decode(embedding, { points: [{ x, y, label: 1 }] }, { multimask: true });
    decodeMs += performance.now() - decodeStart;
    for (const c of candidates) {
      counts.candidates++;
      if (p.predIouThresh > 0 && !(c.predictedIou > p.predIouThresh)) continue;
      counts.predIou++;
      if (p.stabilityScoreThresh > 0 && !(c.stabilityScore >= p.stabilityScoreThresh)) continue;
      counts.stability++;
      if (c.area === 0) continue;
      counts.cropEdge++; // the whole image has no crop edge that is not an image edge
      const { patch, box, area } = maskToPatch(c.mask);
      proposals.push({
        patch,
        box,
        area,
        predictedIou: c.predictedIou,
        stabilityScore: c.stabilityScore,
        point: [x, y],
        cropBox,
      });
    }
    onProgress?.((i + 1) / n);
  }
  const kept = finishCrop(proposals, cropBox, p.boxNmsThresh, counts);
  counts.cropNms += kept.length;
  return {
    masks: finishImage(kept, p, W, H, counts),
    stats: {
      filterCounts: { ...counts },
      crops: 1,
      points: n,
      encodeMs,
      decodeMs,
      totalMs: performance.now() - start,
    },
  };
}
