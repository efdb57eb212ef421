import * as ort from "onnxruntime-node";
import { MULTIMASK_OUTPUTS, selectStockCandidate } from "../multimask";
import { type BBoxXYWH, logitsToMaskStats } from "../postprocess";
import { preprocessImage, type ResizedRgb } from "../preprocess";
import {
  decoderPointCount,
  type FeedTensor,
  type PromptFeeds,
  promptsToBatchFeeds,
  promptToFeeds,
} from "../prompt-feeds";
import {
  type ImageEmbedding,
  type MaskCandidate,
  SAM_IMAGE_SIZE,
  SAM_LOW_RES_SIZE,
  type SamPrompt,
} from "../types";
import {
  defaultModelFiles,
  type ModelFiles,
  multimaskDecoderPath,
  readVerifiedModelFile,
} from "./model-files";

export interface NodeSamOptions {
  /** ORT intra-op threads per session; default: ORT's choice (all cores). */
  intraOpThreads?: number;
  /** Where the derived multi-mask decoder is cached (see `multimaskDecoderPath`). */
  cacheDir?: string;
  /** ORT execution providers in order of preference, e.g. ["cuda", "cpu"] on GPU workers. Default: CPU. */
  executionProviders?: string[];
}

/** What `encode` needs: the oriented original size and the RGB resized to SAM's preprocess shape. */
export interface SamImageInput {
  width: number;
  height: number;
  resized: ResizedRgb;
}

export interface DecodeOptions {
  /** Return SAM's three ambiguity candidates (mask tokens 1-3) instead of only the chosen mask. */
  multimask?: boolean;
}

/** A decoded candidate with the numbers the data engine filters and stores. */
export interface ScoredMaskCandidate extends MaskCandidate {
  /** Mask token index 0-3: 0 the single-mask token, 1-3 SAM's three multi-mask choices. */
  index: number;
  area: number;
  /** SA-1B XYWH, SAM's inclusive convention (see `maskBbox`). */
  bbox: BBoxXYWH;
  /** SAM's stability score (offset 1.0) from the full-resolution logits. */
  stabilityScore: number;
}

export interface DecodeResult {
  /** The stock decoder's choice: identical to what the stock `sam.onnx` returns for this prompt. */
  best: ScoredMaskCandidate;
  /** With `multimask`, candidates 1-3 in token order (`best` is one of them, or token 0); else `[best]`. */
  candidates: ScoredMaskCandidate[];
  /** Wall time of feeds + decoder run + postprocessing. */
  decodeMs: number;
}

const EMBEDDING_DIMS = [1, 256, 64, 64] as const;
const LOW_RES_AREA = SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE;
const STOCK_FETCHES = ["masks", "low_res_masks", MULTIMASK_OUTPUTS.iouPredictions];
const MULTI_FETCHES = [
  MULTIMASK_OUTPUTS.masks,
  MULTIMASK_OUTPUTS.lowResMasks,
  MULTIMASK_OUTPUTS.iouPredictions,
];

function tensor(feed: FeedTensor): ort.Tensor {
  return new ort.Tensor("float32", feed.data, feed.dims);
}

function floatData(t: ort.Tensor | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array))
    throw new Error(`decoder output "${name}" missing or not float32`);
  return t.data;
}

/**
 * SAM on onnxruntime-node. One encoder session and one decoder session (the derived multi-mask
 * decoder, which also carries the stock outputs: ORT only runs the nodes a call fetches, so a plain
 * decode costs the same as on the stock file). Sessions are created once and reused; concurrent calls
 * are safe (ORT sessions are thread-safe for `run`).
 */
export class NodeSam {
  private readonly zeroMask = new Float32Array(LOW_RES_AREA);
  private readonly inputBuffer = new Float32Array(3 * SAM_IMAGE_SIZE * SAM_IMAGE_SIZE);
  private inputBusy = false;
  private readonly embeddingTensors = new WeakMap<Float32Array, ort.Tensor>();

  private constructor(
    readonly modelFiles: ModelFiles,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
  ) {}

  /**
   * Verifies both files against their sha256 (ModelFileError on a missing file or a wrong hash), derives
   * or reuses the cached multi-mask decoder, and creates the sessions.
   */
  static async load(
    modelFiles: ModelFiles = defaultModelFiles(),
    options: NodeSamOptions = {},
  ): Promise<NodeSam> {
    const encoderBytes = await readVerifiedModelFile(modelFiles.encoderPath, modelFiles.encoderSha256);
    const decoderPath = await multimaskDecoderPath(modelFiles, options.cacheDir);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
    };
    const [encoder, decoder] = await Promise.all([
      ort.InferenceSession.create(encoderBytes, sessionOptions),
      ort.InferenceSession.create(decoderPath, sessionOptions),
    ]);
    return new NodeSam(modelFiles, encoder, decoder);
  }

  /** Runs the image encoder. `image` is typically `decodeImage`'s result. */
  async encode(image: SamImageInput): Promise<ImageEmbedding> {
    // The 12 MiB input tensor is reused unless another encode is in flight on this instance.
    const reuse = !this.inputBusy;
    if (reuse) this.inputBusy = true;
    try {
      const input = preprocessImage(image.resized, reuse ? this.inputBuffer : undefined);
      const inputName = this.encoder.inputNames[0]!;
      const outputName = this.encoder.outputNames[0]!;
      const out = await this.encoder.run({
        [inputName]: new ort.Tensor("float32", input, [1, 3, SAM_IMAGE_SIZE, SAM_IMAGE_SIZE]),
      });
      const data = floatData(out[outputName], outputName);
      if (data.length !== 256 * 64 * 64)
        throw new Error(`encoder returned ${data.length} values, expected 256*64*64`);
      return { data, dims: EMBEDDING_DIMS, imageWidth: image.width, imageHeight: image.height };
    } finally {
      if (reuse) this.inputBusy = false;
    }
  }

  private embeddingTensor(embedding: ImageEmbedding): ort.Tensor {
    let t = this.embeddingTensors.get(embedding.data);
    if (!t) {
      t = new ort.Tensor("float32", embedding.data, [...EMBEDDING_DIMS]);
      this.embeddingTensors.set(embedding.data, t);
    }
    return t;
  }

  private feedsFor(embedding: ImageEmbedding, feeds: PromptFeeds): ort.InferenceSession.FeedsType {
    return {
      image_embeddings: this.embeddingTensor(embedding),
      point_coords: tensor(feeds.point_coords),
      point_labels: tensor(feeds.point_labels),
      mask_input: tensor(feeds.mask_input),
      has_mask_input: tensor(feeds.has_mask_input),
      orig_im_size: tensor(feeds.orig_im_size),
    };
  }

  /** Decodes one prompt (original-image pixels) against an embedding. */
  async decode(
    embedding: ImageEmbedding,
    prompt: SamPrompt,
    options: DecodeOptions = {},
  ): Promise<DecodeResult> {
    const start = performance.now();
    const feeds = promptToFeeds(prompt, embedding.imageWidth, embedding.imageHeight, {
      zeroMask: this.zeroMask,
    });
    const [result] = await this.run(
      embedding,
      feeds,
      [decoderPointCount(prompt)],
      options.multimask ?? false,
    );
    return { ...result!, decodeMs: performance.now() - start };
  }

  /**
   * Decodes several prompts against one embedding in a single decoder run (see `promptsToBatchFeeds` for
   * the padding caveat and the no-maskInput restriction). `decodeMs` is the batch's total time.
   */
  async decodeBatch(
    embedding: ImageEmbedding,
    prompts: readonly SamPrompt[],
    options: DecodeOptions = {},
  ): Promise<DecodeResult[]> {
    const start = performance.now();
    const feeds = promptsToBatchFeeds(prompts, embedding.imageWidth, embedding.imageHeight, {
      zeroMask: this.zeroMask,
    });
    const n = feeds.point_labels.dims[1]!;
    const results = await this.run(
      embedding,
      feeds,
      prompts.map(() => n),
      options.multimask ?? false,
    );
    const decodeMs = performance.now() - start;
    return results.map((r) => ({ ...r, decodeMs }));
  }

  private async run(
    embedding: ImageEmbedding,
    feeds: PromptFeeds,
    pointCounts: readonly number[],
    multimask: boolean,
  ): Promise<Omit<DecodeResult, "decodeMs">[]> {
    const { imageWidth: w, imageHeight: h } = embedding;
    const out = await this.decoder.run(
      this.feedsFor(embedding, feeds),
      multimask ? MULTI_FETCHES : STOCK_FETCHES,
    );
    const iou = floatData(out[MULTIMASK_OUTPUTS.iouPredictions], MULTIMASK_OUTPUTS.iouPredictions);
    const area = w * h;
    if (!multimask) {
      const masks = floatData(out.masks, "masks");
      const lowRes = floatData(out.low_res_masks, "low_res_masks");
      return pointCounts.map((points, b) => {
        const index = selectStockCandidate(iou, points, 4 * b);
        const stats = logitsToMaskStats(masks, w, h, b * area);
        const best: ScoredMaskCandidate = {
          ...stats,
          index,
          predictedIou: iou[4 * b + index]!,
          lowResLogits:
            pointCounts.length === 1 ? lowRes : lowRes.slice(b * LOW_RES_AREA, (b + 1) * LOW_RES_AREA),
        };
        return { best, candidates: [best] };
      });
    }
    const masks = floatData(out[MULTIMASK_OUTPUTS.masks], MULTIMASK_OUTPUTS.masks);
    const lowRes = floatData(out[MULTIMASK_OUTPUTS.lowResMasks], MULTIMASK_OUTPUTS.lowResMasks);
    const candidate = (b: number, index: number): ScoredMaskCandidate => {
      const k = 4 * b + index;
      return {
        ...logitsToMaskStats(masks, w, h, k * area),
        index,
        predictedIou: iou[k]!,
        lowResLogits: lowRes.slice(k * LOW_RES_AREA, (k + 1) * LOW_RES_AREA),
      };
    };
    return pointCounts.map((points, b) => {
      const candidates = [1, 2, 3].map((i) => candidate(b, i));
      const index = selectStockCandidate(iou, points, 4 * b);
      const best = index === 0 ? candidate(b, 0) : candidates[index - 1]!;
      return { best, candidates };
    });
  }

  /**
   * All four mask tokens' 256x256 logits ([B,4,256,256] flattened) and IoU predictions ([B,4]) for a batch
   * of prompts, nothing else: only the low-res outputs are fetched, so ORT skips the upscaling to the
   * image size entirely (the automatic pass upsamples just the candidates that survive its filters).
   */
  async decodeLowResBatch(
    embedding: ImageEmbedding,
    prompts: readonly SamPrompt[],
  ): Promise<{ lowResLogits: Float32Array; iou: Float32Array }> {
    const feeds = promptsToBatchFeeds(prompts, embedding.imageWidth, embedding.imageHeight, {
      zeroMask: this.zeroMask,
    });
    const { lowResMasks, iouPredictions } = MULTIMASK_OUTPUTS;
    const out = await this.decoder.run(this.feedsFor(embedding, feeds), [lowResMasks, iouPredictions]);
    return {
      lowResLogits: floatData(out[lowResMasks], lowResMasks),
      iou: floatData(out[iouPredictions], iouPredictions),
    };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
