import * as ort from "onnxruntime-node";
import { BATCH_DECODER_OUTPUTS, BATCH_POINT_DECODER_DERIVATION } from "../graph-batch";
import { LABEL_FOREGROUND, LABEL_PADDING } from "../prompt-feeds";
import { inputScale } from "../transforms";
import { type ImageEmbedding, SAM_LOW_RES_SIZE } from "../types";
import { defaultModelFiles, derivedDecoderPaths, type ModelFiles } from "./model-files";

export interface BatchPointDecoderOptions {
  /** Where the derived graphs are cached (see `derivedDecoderPaths`). */
  cacheDir?: string;
  /** ORT intra-op threads per session; default: ORT's choice (all cores). */
  intraOpThreads?: number;
  /** ORT execution providers in order of preference. Default: CPU. */
  executionProviders?: string[];
  /** Prompts per decoder run (the last run of a call takes the rest). Default `DEFAULT_POINT_BATCH`. */
  batchSize?: number;
}

/**
 * Prompts per run. The CPU cost per point is flat from about 8 prompts up (see `npm run
 * bench:point-decoder`), while ORT's working memory grows with the batch (~1.2 GB RSS at 16, ~4 GB at 64:
 * each prompt carries [16384, 128] and [65536, 32] float intermediates in the mask head).
 */
export const DEFAULT_POINT_BATCH = 16;

/** Four candidates per point: index 0 the single-mask token, 1-3 SAM's three multi-mask candidates. */
const CANDIDATES = 4;
const LOW_RES_AREA = SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE;
const EMBEDDING_LENGTH = 256 * 64 * 64;

type Feeds = Record<string, ort.Tensor>;

function floatData(t: ort.Tensor | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array))
    throw new Error(`point decoder output "${name}" missing or not float32`);
  return t.data;
}

/**
 * Decodes many single-point prompts against one image embedding on onnxruntime-node, for the automatic mask
 * generator: each point is a foreground click plus SAM's padding point (0, 0, label -1), decoded multimask
 * with low-res outputs only, exactly as the stock decoder would one at a time (logits within ~1e-4).
 *
 * Runs the graphs of `deriveBatchPointDecoder`: `prepare` once per embedding (its tensors are kept while
 * the embedding's `data` array is alive, so later calls on the same embedding skip it), then the batched
 * `click` over chunks of `batchSize` points, where the image side is shared by the whole chunk instead of
 * repeated per prompt. Structurally a `PointDecoder` of the automatic mask generator.
 */
export class BatchPointDecoder {
  private readonly prepared = new WeakMap<Float32Array, Promise<Feeds>>();

  private constructor(
    private readonly prepare: ort.InferenceSession,
    private readonly click: ort.InferenceSession,
    readonly batchSize: number,
  ) {}

  /**
   * Verifies the stock decoder of `files` against its sha256 (ModelFileError otherwise), derives or reuses
   * the cached `prepare` / batched `click` graphs, and creates their sessions.
   */
  static async load(
    files: ModelFiles = defaultModelFiles(),
    options: BatchPointDecoderOptions = {},
  ): Promise<BatchPointDecoder> {
    const batchSize = options.batchSize ?? DEFAULT_POINT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const paths = await derivedDecoderPaths(files, BATCH_POINT_DECODER_DERIVATION, options.cacheDir);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
    };
    const [prepare, click] = await Promise.all([
      ort.InferenceSession.create(paths.prepare, sessionOptions),
      ort.InferenceSession.create(paths.click, sessionOptions),
    ]);
    return new BatchPointDecoder(prepare, click, batchSize);
  }

  /** `prepare`'s outputs for this embedding: the per-image tensors every chunk's `click` run reads. */
  private preparedFeeds(embedding: ImageEmbedding): Promise<Feeds> {
    let feeds = this.prepared.get(embedding.data);
    if (!feeds) {
      const input = new ort.Tensor("float32", embedding.data, [...embedding.dims]);
      feeds = this.prepare.run({ [this.prepare.inputNames[0]!]: input }).then((out) => {
        const named: Feeds = {};
        for (const name of this.prepare.outputNames) named[name] = out[name]!;
        return named;
      });
      this.prepared.set(embedding.data, feeds);
      feeds.catch(() => this.prepared.delete(embedding.data));
    }
    return feeds;
  }

  /**
   * points: n*2 floats (x, y) in the embedding's original-image pixels. Returns n*4*256*256 low-res logits
   * (per point, index 0 the single-mask token, 1-3 the multimask candidates; SAM's padded 1024 frame / 4)
   * and n*4 IoU predictions, point after point.
   */
  async decodePoints(
    embedding: ImageEmbedding,
    points: Float32Array,
  ): Promise<{ lowResLogits: Float32Array; iou: Float32Array }> {
    if (embedding.data.length !== EMBEDDING_LENGTH)
      throw new RangeError(`embedding has ${embedding.data.length} values, expected 256*64*64`);
    if (points.length % 2 !== 0) throw new RangeError("points must hold (x, y) pairs");
    for (const v of points) if (!Number.isFinite(v)) throw new RangeError("points must be finite numbers");
    const n = points.length / 2;
    const lowResLogits = new Float32Array(n * CANDIDATES * LOW_RES_AREA);
    const iou = new Float32Array(n * CANDIDATES);
    if (n === 0) return { lowResLogits, iou };
    const prepared = await this.preparedFeeds(embedding);
    const { sx, sy } = inputScale(embedding.imageWidth, embedding.imageHeight);
    for (let start = 0; start < n; start += this.batchSize) {
      const count = Math.min(this.batchSize, n - start);
      // each prompt: the point, then SAM's padding point (0, 0, label -1)
      const coords = new Float32Array(count * 4);
      const labels = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        coords[4 * i] = points[2 * (start + i)]! * sx;
        coords[4 * i + 1] = points[2 * (start + i) + 1]! * sy;
        labels[2 * i] = LABEL_FOREGROUND;
        labels[2 * i + 1] = LABEL_PADDING;
      }
      const out = await this.click.run({
        ...prepared,
        point_coords: new ort.Tensor("float32", coords, [count, 2, 2]),
        point_labels: new ort.Tensor("float32", labels, [count, 2]),
      });
      const O = BATCH_DECODER_OUTPUTS;
      const chunkLogits = floatData(out[O.lowResMasks], O.lowResMasks);
      const chunkIou = floatData(out[O.iouPredictions], O.iouPredictions);
      if (chunkLogits.length !== count * CANDIDATES * LOW_RES_AREA || chunkIou.length !== count * CANDIDATES)
        throw new Error(`point decoder returned ${chunkIou.length / CANDIDATES} results for ${count} points`);
      lowResLogits.set(chunkLogits, start * CANDIDATES * LOW_RES_AREA);
      iou.set(chunkIou, start * CANDIDATES);
    }
    return { lowResLogits, iou };
  }

  async release(): Promise<void> {
    await Promise.all([this.prepare.release(), this.click.release()]);
  }
}
