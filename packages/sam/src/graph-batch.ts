/**
 * The browser decoder's `click` model made batch-capable: many single-prompt decodes against one image in
 * one run, for the automatic mask generator. The per-image tensors that `prepare` computes stay batch 1 and
 * broadcast across the prompt batch B; only what depends on the points carries B.
 *
 * `deriveBrowserDecoder` builds `click` for one prompt at a time: it reads the image-side tensors where the
 * stock graph read their Tile over the prompt batch. Almost every op after them broadcasts (MatMul, Add,
 * Mul…) or computes its Reshape shapes from a batched tensor, so a batch of prompts already flows through,
 * except in the head's folded first product (`graph-head-fold.ts`), which is written for batch 1 as 2-D
 * Gemms over the 4096 image rows: t2 = ([P1 | n | 1] [M1 W1; c1] + k0W1) / r, out = ([P2 | m | 1 | s] [M2 W2;
 * c2] + t2) / s. Here it becomes batch-generic, with the same math regrouped into one product:
 *   out = ([P2 | m | 1 | s | (P1 | n | 1) / r] / s) [M2 W2; c2; M1 W1; c1] + k0W1 / (r s)
 * the left factor [B, 4096, ~118] per prompt (the column of ones [1, 4096, 1] expanded to the batch, as
 * Concat does not broadcast), the right one [B, ~118, 256] per prompt (the constant rows c expanded), and
 * the per-image k0W1 [4096, 256] broadcast against the per-prompt row scale 1 / (r s) [B, 4096, 1].
 * The point inputs and the outputs get a symbolic leading dimension. Same weights, same formulas, only
 * float summation order may differ from `click` (and so from the stock decoder).
 */
import { deriveBrowserDecoder } from "./browser-decoder";
import type { DecoderDerivation } from "./browser-model";
import { rewriteForCpu } from "./graph-batch-cpu";
import { MULTIMASK_OUTPUTS } from "./multimask";
import {
  extractGraph,
  GraphProtoField,
  int64Initializer,
  ONNX_FLOAT,
  type OnnxNode,
  opNode,
  type ParsedModel,
  parseModel,
  serializeModel,
  valueInfoField,
  withAdditions,
} from "./onnx-graph";
import { SAM_LOW_RES_SIZE } from "./types";

/** Symbolic name of the prompt batch dimension of the batched `click` model's inputs and outputs. */
export const POINT_BATCH_DIM = "num_prompts";

/** Outputs of the batched click model: [B,4,256,256] logits and [B,4] IoU, index 0 the single-mask token. */
export const BATCH_DECODER_OUTPUTS = {
  lowResMasks: MULTIMASK_OUTPUTS.lowResMasks,
  iouPredictions: MULTIMASK_OUTPUTS.iouPredictions,
} as const;

export class BatchDecoderDerivationError extends Error {
  override name = "BatchDecoderDerivationError";
}

export interface BatchPointDecoderModels {
  /** The browser decoder's `prepare`: image_embeddings [1,256,64,64] in, `preparedNames` out (batch 1). */
  prepare: Uint8Array;
  /**
   * point_coords [B,N,2], point_labels [B,N] and every `preparedNames` tensor (as `prepare` returns it) in;
   * `BATCH_DECODER_OUTPUTS` [B,4,256,256] and [B,4] out.
   */
  click: Uint8Array;
  preparedNames: string[];
}

const HEAD_FOLD = "/head_fold";
const PREFIX = "/batch";

/** The head-fold nodes this rewrite replaces, by the names `foldHeadProjection` gives them. */
function headFoldNodes(model: ParsedModel) {
  const byName = new Map(model.nodes.map((n) => [n.name, n]));
  const get = (s: string, op: string): OnnxNode => {
    const n = byName.get(`${HEAD_FOLD}/${s}`);
    if (n?.opType !== op)
      throw new BatchDecoderDerivationError(
        `click model has no ${op} "${HEAD_FOLD}/${s}": not the head fold this rewrite was written for`,
      );
    return n;
  };
  return {
    a1: get("a1", "Concat"),
    a2: get("a2", "Concat"),
    a1Rows: get("a1_rows", "Reshape"),
    a2Rows: get("a2_rows", "Reshape"),
    t1: get("t1", "Gemm"),
    u: get("u", "Gemm"),
    rRows: get("r_rows", "Reshape"),
    sRows: get("s_rows", "Reshape"),
    m1Rows: get("m1_rows", "Reshape"),
    m2Rows: get("m2_rows", "Reshape"),
    m1W1: get("m1_w1", "MatMul"),
    m2W2: get("m2_w2", "MatMul"),
    b1: get("b1", "Concat"),
    b2: get("b2", "Concat"),
    t2: get("t2", "Div"),
    out: get("out", "Div"),
  };
}

/** See the module comment: the click model's head fold rewritten batch-generic. */
function batchHeadFold(model: ParsedModel): ParsedModel {
  const h = headFoldNodes(model);
  const ones = `${HEAD_FOLD}/ones`;
  if (!h.a1.inputs.includes(ones) || !h.a2.inputs.includes(ones))
    throw new BatchDecoderDerivationError("the head fold's Concats do not read its column of ones");
  // a Gemm without attributes: alpha = beta = 1, no transposes
  for (const g of [h.t1, h.u])
    if (g.fields.length !== h.t1.fields.length || g.inputs.length !== 3)
      throw new BatchDecoderDerivationError(`unexpected Gemm "${g.name}"`);
  if (h.t1.inputs[0] !== h.a1Rows.outputs[0] || h.u.inputs[0] !== h.a2Rows.outputs[0])
    throw new BatchDecoderDerivationError("the head fold's Gemms do not read its row reshapes");
  const t = (s: string) => `${PREFIX}${HEAD_FOLD}/${s}`;
  // the batch size B, from the layer 0 attention probabilities [B, 4096, tokens x heads]
  const probs = h.a1.inputs[0]!;
  // per prompt [values x W; constant rows]: the values stay [B, tokens x heads, 256] (not flattened into
  // rows of one matrix) and the constant rows are expanded to the batch; concatenated along the rows
  const batchRhs = (rows: OnnxNode, product: OnnxNode, concat: OnnxNode, name: string) => {
    const constant = concat.inputs[1]!;
    if (product.inputs[0] !== rows.outputs[0] || concat.inputs[0] !== product.outputs[0])
      throw new BatchDecoderDerivationError(`unexpected head-fold term "${concat.name}"`);
    return [
      opNode("MatMul", t(`${name}_values`), [rows.inputs[0]!, product.inputs[1]!], [t(`${name}_values_out`)]),
      opNode("Expand", t(`${name}_constant`), [constant, t("batch_shape_out")], [t(`${name}_constant_out`)]),
      opNode(
        "Concat",
        t(name),
        [t(`${name}_values_out`), t(`${name}_constant_out`)],
        [t(`${name}_out`)],
        [{ name: "axis", int: 1 }],
      ),
    ];
  };
  // the two terms' structure: t2 = (a1 b1 + k0W1) / r, out = (a2 b2 + t2) / s
  const r = h.rRows.inputs[0]!;
  const std = h.sRows.inputs[0]!;
  const k0w1 = h.t1.inputs[2]!;
  if (
    h.t2.inputs.join() !== [h.t1.outputs[0], h.rRows.outputs[0]].join() ||
    h.u.inputs[2] !== h.t2.outputs[0] ||
    h.out.inputs.join() !== [h.u.outputs[0], h.sRows.outputs[0]].join()
  )
    throw new BatchDecoderDerivationError("the head fold's terms are not combined as expected");
  return withAdditions(model, {
    nodes: [
      opNode("Shape", t("probs_shape"), [probs], [t("probs_shape_out")]),
      opNode(
        "Slice",
        t("batch_size"),
        [t("probs_shape_out"), t("zero"), t("one"), t("zero")],
        [t("batch_size_out")],
      ),
      // [B, 1, 1]: the ones column [1, 4096, 1] and the constant rows expanded to the batch
      opNode("Expand", t("ones"), [ones, t("batch_shape_out")], [t("ones_out")]),
      opNode(
        "Concat",
        t("batch_shape"),
        [t("batch_size_out"), t("ones_1_1")],
        [t("batch_shape_out")],
        [{ name: "axis", int: 0 }],
      ),
      ...batchRhs(h.m1Rows, h.m1W1, h.b1, "b1"),
      ...batchRhs(h.m2Rows, h.m2W2, h.b2, "b2"),
      // out = [a2 | a1 / r] / s x [b2; b1] + k0W1 / (r s): one product and two passes over the
      // [B, 4096, 256] result instead of two products and four passes
      opNode("Div", t("a1_r"), [h.a1.outputs[0]!, r], [t("a1_r_out")]),
      opNode("Concat", t("a"), [h.a2.outputs[0]!, t("a1_r_out")], [t("a_out")], [{ name: "axis", int: -1 }]),
      opNode("Div", t("a_s"), [t("a_out"), std], [t("a_s_out")]),
      opNode("Concat", t("b"), [t("b2_out"), t("b1_out")], [t("b_out")], [{ name: "axis", int: 1 }]),
      opNode("MatMul", t("product"), [t("a_s_out"), t("b_out")], [t("product_out")]),
      opNode("Mul", t("r_s"), [r, std], [t("r_s_out")]),
      opNode("Div", t("k0w1_r_s"), [k0w1, t("r_s_out")], [t("k0w1_r_s_out")]),
      opNode("Add", t("out"), [t("product_out"), t("k0w1_r_s_out")], [t("out_out")]),
    ],
    initializers: [
      int64Initializer(t("zero"), [0]),
      int64Initializer(t("one"), [1]),
      int64Initializer(t("ones_1_1"), [1, 1]),
    ],
    rewire: new Map([
      [ones, t("ones_out")],
      [h.out.outputs[0]!, t("out_out")],
    ]),
  });
}

/** Makes a `click` model (see `deriveBrowserDecoder`) batch-capable; see the module comment. */
export function batchClickModel(click: Uint8Array, options: { cpuRewrites?: boolean } = {}): Uint8Array {
  let model = parseModel(click);
  model = batchHeadFold(model);
  if (options.cpuRewrites ?? true) model = rewriteForCpu(model);
  const B = POINT_BATCH_DIM;
  const inputs = model.inputs.map((info) => {
    const elemType = info.elemType ?? ONNX_FLOAT;
    if (info.name === "point_coords")
      return valueInfoField(GraphProtoField.input, {
        name: info.name,
        elemType,
        shape: [B, "num_points", 2],
      });
    if (info.name === "point_labels")
      return valueInfoField(GraphProtoField.input, { name: info.name, elemType, shape: [B, "num_points"] });
    return valueInfoField(GraphProtoField.input, { name: info.name, elemType, shape: info.shape });
  });
  const O = BATCH_DECODER_OUTPUTS;
  const size = SAM_LOW_RES_SIZE;
  const outputs = [
    valueInfoField(GraphProtoField.output, {
      name: O.lowResMasks,
      elemType: ONNX_FLOAT,
      shape: [B, 4, size, size],
    }),
    valueInfoField(GraphProtoField.output, { name: O.iouPredictions, elemType: ONNX_FLOAT, shape: [B, 4] }),
  ];
  for (const o of Object.values(O))
    if (!model.outputs.some((x) => x.name === o))
      throw new BatchDecoderDerivationError(`click model has no "${o}" output`);
  return serializeModel(model.modelFields, extractGraph(model, { inputs, outputs }));
}

/** Derives the per-image `prepare` and the batched per-prompt `click` models from a stock decoder. */
export function deriveBatchPointDecoder(stockModel: Uint8Array): BatchPointDecoderModels {
  const { prepare, click, preparedNames } = deriveBrowserDecoder(stockModel);
  return { prepare, click: batchClickModel(click), preparedNames };
}

export const BATCH_POINT_DECODER_PARTS = ["prepare", "click"] as const;
export type BatchPointDecoderPart = (typeof BATCH_POINT_DECODER_PARTS)[number];

/** See `deriveBatchPointDecoder`. Bump the version whenever that function's output bytes change. */
export const BATCH_POINT_DECODER_DERIVATION: DecoderDerivation<BatchPointDecoderPart> = {
  name: "decoder-batch-points-v4",
  parts: BATCH_POINT_DECODER_PARTS,
  derive: (stock) => {
    const { prepare, click } = deriveBatchPointDecoder(stock);
    return { prepare, click };
  },
};
