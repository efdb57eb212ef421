/**
 * Derives the browser's SAM decoder from a stock single-mask ONNX export, by graph edits only (no new
 * weights, no new math), so its masks are the stock decoder's:
 *
 * - Outputs are the four candidates' 256x256 low-res logits and the IoU head (see `MULTIMASK_OUTPUTS`);
 *   everything that upsamples to the original resolution (`masks`, its Resize/Slice chain), the stock
 *   single-mask selection and `orig_im_size` are removed from the file. The browser paints the low-res
 *   logits scaled and computes full resolution itself; `selectStockCandidate` replicates the stock choice.
 * - Split per image / per click, for prompts without a dense prompt (has_mask_input = 0): a `prepare`
 *   model computes once per embedding every tensor that depends on the image but not on the clicks
 *   (image embedding + no-mask embedding, the first layer's image-side projections…), and a `click` model
 *   takes those tensors plus the points. The cut is found by dataflow: with mask_input bound to zeros and
 *   has_mask_input to 0 (exactly the stock graph's values for a prompt without a mask), every tensor that
 *   depends on image_embeddings and not on the points, and that a point-dependent node reads, becomes a
 *   `prepare` output and a `click` input. The `Tile` nodes that repeat the image for a batch of prompts
 *   are bypassed: the browser decodes one prompt at a time, and a repeat by 1 is the identity.
 * - A `refine` model serves prompts with a dense prompt (mask_input = previous low-res logits,
 *   has_mask_input = 1), whose image-side tensors depend on it. It is `click` plus the mask path and takes
 *   the same prepared tensors: each is corrected by the dense embedding's change against the no-mask
 *   embedding, which is linear in them, with the mask path's last 1x1 convolution folded into each
 *   first-layer projection (`graph-dense-split.ts`): ~4096 x 17 x 128 multiply-adds per tensor instead of
 *   image-sized projections.
 * - Before the split, exact-math rewrites for CPU/WASM (`graph-rewrites.ts`): the mask head runs
 *   channels-last (ConvTranspose -> Gemm, LayerNorm2d -> LayerNormalization, one final Transpose) and the
 *   cross-attention products with the 64x64 image side are reassociated so no image-sized q/k/v/out
 *   projection is left per click; the head's first product is pushed through the transformer's last two
 *   image-side norms into a per-image product plus low-rank per-click terms, with the head norm's
 *   centring folded into it (`graph-head-fold.ts`); the last attention runs for the output tokens only
 *   (`graph-final-tokens.ts`). Same weights and formulas; only the float summation order differs
 *   (logits within ~1e-3 of stock).
 */
import { rewriteDenseDelta } from "./graph-dense-split";
import { sliceFinalAttention } from "./graph-final-tokens";
import { foldHeadProjection } from "./graph-head-fold";
import { rewriteImageTokenNorms } from "./graph-layernorm";
import { HEAD_FIRST_GEMM, rewriteCrossAttention, rewriteUpscalingHead } from "./graph-rewrites";
import { findCandidateTensors, MULTIMASK_OUTPUTS, selectStockCandidate } from "./multimask";
import {
  type ExtractSpec,
  extractGraph,
  floatInitializer,
  GraphProtoField,
  int64Initializer,
  ONNX_FLOAT,
  type OnnxNode,
  type ParsedModel,
  parseModel,
  producerMap,
  serializeModel,
  simpleNode,
  tensorElemType,
  ValueInfoProtoField,
  valueInfoField,
} from "./onnx-graph";
import { decoderPointCount, type FeedOptions, type FeedTensor, promptToFeeds } from "./prompt-feeds";
import { firstString, ProtobufError, type ProtoField, parseMessage } from "./protobuf";
import { SAM_LOW_RES_SIZE, type SamPrompt } from "./types";

/** Input names of the stock decoder that the browser decoder models read. */
export const BROWSER_DECODER_INPUTS = {
  imageEmbeddings: "image_embeddings",
  pointCoords: "point_coords",
  pointLabels: "point_labels",
  maskInput: "mask_input",
  hasMaskInput: "has_mask_input",
} as const;

/** Outputs of the `click` and `refine` models: [1,4,256,256] logits and [1,4] IoU, index 0 the single-mask token. */
export const BROWSER_DECODER_OUTPUTS = {
  lowResMasks: MULTIMASK_OUTPUTS.lowResMasks,
  iouPredictions: MULTIMASK_OUTPUTS.iouPredictions,
} as const;

export class BrowserDecoderDerivationError extends Error {
  override name = "BrowserDecoderDerivationError";
}

export interface BrowserDecoderModels {
  /**
   * Once per image: image_embeddings [1,256,64,64] float32 in, the tensors named `preparedNames` out
   * (float32, plus one small int64 shape tensor). Keep its outputs for every click on that image.
   */
  prepare: Uint8Array;
  /**
   * Per click without a dense prompt: point_coords [1,N,2], point_labels [1,N] and every `preparedNames`
   * tensor in; `BROWSER_DECODER_OUTPUTS` out.
   */
  click: Uint8Array;
  /**
   * Any prompt, needed for a dense prompt: point_coords, point_labels, mask_input [1,1,256,256],
   * has_mask_input [1] and every `preparedNames` tensor in; `BROWSER_DECODER_OUTPUTS` out.
   */
  refine: Uint8Array;
  /** Outputs of `prepare` = the extra inputs of `click` and `refine`, in a fixed order. */
  preparedNames: string[];
}

function inputField(model: ParsedModel, name: string): ProtoField {
  const f = model.graphFields.find(
    (g) =>
      g.no === GraphProtoField.input &&
      firstString(parseMessage(g.payload), ValueInfoProtoField.name) === name,
  );
  if (!f) throw new BrowserDecoderDerivationError(`decoder has no "${name}" input`);
  return f;
}

/** Nodes needed for `outputs`, in topological order, reading through `substitute`. */
function neededNodes(
  nodes: readonly OnnxNode[],
  outputs: readonly string[],
  substitute: ReadonlyMap<string, string>,
): OnnxNode[] {
  const produced = producerMap(nodes);
  const order: OnnxNode[] = [];
  const seen = new Set<OnnxNode>();
  const visit = (t: string) => {
    const n = produced.get(t);
    if (!n || seen.has(n)) return;
    seen.add(n);
    for (const i of n.inputs) if (i) visit(substitute.get(i) ?? i);
    order.push(n);
  };
  for (const o of outputs) visit(o);
  return order;
}

/**
 * Repeats of the image-side tensors over the prompt batch (Tile with a repeat count taken from the points):
 * the identity for the one prompt the browser decodes at a time, so they are read through.
 */
function batchTileBypass(
  model: ParsedModel,
  pointNames: ReadonlySet<string>,
  targets: readonly string[],
): Map<string, string> {
  const dependsOnPoints = new Set<string>(pointNames);
  for (const n of neededNodes(model.nodes, targets, new Map())) {
    if (n.inputs.some((i) => dependsOnPoints.has(i))) for (const o of n.outputs) dependsOnPoints.add(o);
  }
  const substitute = new Map<string, string>();
  for (const n of model.nodes) {
    const [data, repeats] = n.inputs;
    if (
      n.opType === "Tile" &&
      data &&
      repeats &&
      !dependsOnPoints.has(data) &&
      dependsOnPoints.has(repeats)
    ) {
      substitute.set(n.outputs[0]!, data);
    }
  }
  return substitute;
}

/** Derives the browser decoder models (see the module comment); the input is not modified. */
export function deriveBrowserDecoder(stockModel: Uint8Array): BrowserDecoderModels {
  let parsed: ParsedModel;
  try {
    parsed = parseModel(stockModel);
  } catch (e) {
    if (e instanceof ProtobufError)
      throw new BrowserDecoderDerivationError(`not a readable ONNX model: ${e.message}`);
    throw e;
  }
  const taken = new Set(parsed.nodes.flatMap((n) => n.outputs));
  for (const name of Object.values(BROWSER_DECODER_OUTPUTS)) {
    if (taken.has(name))
      throw new BrowserDecoderDerivationError(`decoder already has a tensor named "${name}"`);
  }
  const stockCandidates = findCandidateTensors(parsed);
  const head = rewriteUpscalingHead(parsed, stockCandidates.lowResMasks);
  if (head) parsed = head.model;
  const I = BROWSER_DECODER_INPUTS;
  // Only the points: with the mask inputs fixed (the `click` case), the first layer's image side is per image.
  parsed = rewriteCrossAttention(rewriteImageTokenNorms(parsed), [I.pointCoords, I.pointLabels]);
  if (head) parsed = foldHeadProjection(parsed, HEAD_FIRST_GEMM) ?? parsed;
  parsed = sliceFinalAttention(parsed) ?? parsed;
  const candidates = {
    ...stockCandidates,
    lowResMasks: head?.replaced.get(stockCandidates.lowResMasks) ?? stockCandidates.lowResMasks,
  };
  const O = BROWSER_DECODER_OUTPUTS;
  const outputNodes = [
    simpleNode("Identity", `${O.lowResMasks}/Identity`, [candidates.lowResMasks], [O.lowResMasks]),
    simpleNode("Identity", `${O.iouPredictions}/Identity`, [candidates.iouPredictions], [O.iouPredictions]),
  ];
  const outputs = [
    valueInfoField(GraphProtoField.output, {
      name: O.lowResMasks,
      elemType: ONNX_FLOAT,
      shape: [1, 4, SAM_LOW_RES_SIZE, SAM_LOW_RES_SIZE],
    }),
    valueInfoField(GraphProtoField.output, { name: O.iouPredictions, elemType: ONNX_FLOAT, shape: [1, 4] }),
  ];
  const pointInputs = [inputField(parsed, I.pointCoords), inputField(parsed, I.pointLabels)];
  const build = (spec: ExtractSpec) => serializeModel(parsed.modelFields, extractGraph(parsed, spec));
  const pointNames = new Set<string>([I.pointCoords, I.pointLabels]);
  const targets = [candidates.lowResMasks, candidates.iouPredictions];

  // --- prepare / click split ---
  const substitute = batchTileBypass(parsed, pointNames, targets);
  const order = neededNodes(parsed.nodes, targets, substitute);
  const dynamic = new Set<string>(pointNames);
  const image = new Set<string>([I.imageEmbeddings]);
  const frontier: string[] = [];
  for (const n of order) {
    const reads = n.inputs.map((i) => substitute.get(i) ?? i);
    if (reads.some((i) => dynamic.has(i))) {
      for (const o of n.outputs) dynamic.add(o);
      for (const i of reads) if (image.has(i) && !frontier.includes(i)) frontier.push(i);
    } else if (reads.some((i) => image.has(i))) {
      for (const o of n.outputs) image.add(o);
    }
  }
  if (frontier.length === 0 || frontier.includes(I.imageEmbeddings)) {
    throw new BrowserDecoderDerivationError("found nothing per-image to precompute in this decoder");
  }
  const preparedInfo = frontier.map((name) => ({ name, elemType: tensorElemType(parsed, name) }));
  const preparedFields = preparedInfo.map((info) => valueInfoField(GraphProtoField.output, info));
  const maskShape = `${I.maskInput}/shape`;
  const prepare = build({
    inputs: [inputField(parsed, I.imageEmbeddings)],
    outputs: preparedFields,
    // No dense prompt: exactly what the stock graph computes for mask_input = 0, has_mask_input = 0.
    extraNodes: [simpleNode("ConstantOfShape", `${I.maskInput}/zeros`, [maskShape], [I.maskInput])],
    extraInitializers: [
      int64Initializer(maskShape, [1, 1, SAM_LOW_RES_SIZE, SAM_LOW_RES_SIZE]),
      floatInitializer(I.hasMaskInput, [1], [0]),
    ],
    substitute,
  });
  const click = build({
    inputs: [...pointInputs, ...preparedInfo.map((info) => valueInfoField(GraphProtoField.input, info))],
    outputs,
    extraNodes: outputNodes,
    substitute,
  });
  // `refine`: `click` with each prepared tensor corrected for the prompt's dense embedding.
  const dense = rewriteDenseDelta(parsed, frontier, { hasMaskInput: I.hasMaskInput });
  if (!dense) throw new BrowserDecoderDerivationError("the dense prompt path is not SAM's");
  // a Tile read through to a prepared tensor reads its corrected value too
  const refineSubstitute = new Map(
    [...substitute].map(([from, to]) => [from, dense.replaced.get(to) ?? to] as const),
  );
  const refine = serializeModel(
    dense.model.modelFields,
    extractGraph(dense.model, {
      inputs: [
        ...pointInputs,
        inputField(parsed, I.maskInput),
        inputField(parsed, I.hasMaskInput),
        ...preparedInfo.map((info) => valueInfoField(GraphProtoField.input, info)),
      ],
      outputs,
      extraNodes: outputNodes,
      substitute: refineSubstitute,
    }),
  );
  return { prepare, click, refine, preparedNames: frontier };
}

/** Which model a prompt goes to, and its feeds (the caller adds the image's prepared tensors). */
export interface BrowserDecoderFeeds {
  /** "click" or "refine": that model, fed these feeds + the `prepare` outputs for the image. */
  model: "click" | "refine";
  feeds: Record<string, FeedTensor>;
  /** Decoder points the prompt became (padding point / box corners included), for `selectStockCandidate`. */
  numDecoderPoints: number;
}

/**
 * Builds the feeds for one prompt in original-image pixels (see `promptToFeeds`): a prompt without
 * `maskInput` goes to the `click` model (point_coords, point_labels), one with `maskInput` to `refine`
 * (also mask_input and has_mask_input = 1).
 */
export function browserDecoderFeeds(
  prompt: SamPrompt,
  imageWidth: number,
  imageHeight: number,
  options: FeedOptions = {},
): BrowserDecoderFeeds {
  const f = promptToFeeds(prompt, imageWidth, imageHeight, options);
  const numDecoderPoints = decoderPointCount(prompt);
  if (!prompt.maskInput) {
    return {
      model: "click",
      feeds: { point_coords: f.point_coords, point_labels: f.point_labels },
      numDecoderPoints,
    };
  }
  return {
    model: "refine",
    feeds: {
      point_coords: f.point_coords,
      point_labels: f.point_labels,
      mask_input: f.mask_input,
      has_mask_input: f.has_mask_input,
    },
    numDecoderPoints,
  };
}

/** The candidate (0-3) the stock decoder would return for this prompt, from the [1,4] IoU output. */
export function stockCandidateFor(prompt: SamPrompt, iouPredictions: ArrayLike<number>): number {
  return selectStockCandidate(iouPredictions, decoderPointCount(prompt));
}
