/**
 * Rewrites of the batched `click` model (`graph-batch.ts`) for onnxruntime-node's CPU kernels, where a
 * batch of prompts makes every per-prompt image-sized tensor ([B, 4096, 256], [B, 16384, 64]) stream
 * through memory once per elementwise op: fewer passes over them is what speeds the decoder up.
 *
 * - The image-token norms that `rewriteImageTokenNorms` wrote out as nine elementary ops (faster in
 *   ORT-web's WASM) go back to one `LayerNormalization`, whose optional Mean and InvStdDev outputs give the
 *   per-row mean and std that the head fold (`graph-head-fold.ts`) reads (std = 1 / InvStdDev).
 * - The head's norm of the (already centred, see `foldHeadProjection`) upscaled pixels becomes one
 *   `LayerNormalization` too: its mean subtraction takes away a mean that is zero in exact arithmetic.
 * - The image-to-token attentions' output bias b is folded into the per-prompt values: each head's
 *   softmax row sums to 1, so with H heads P (M + 1 b' / H) = P M + b', one pass fewer per attention.
 * - The attention scores' 1 / sqrt(head dim) goes onto the small per-prompt factor of each reassociated
 *   score product, and layer 1's image-to-token softmax runs in its product's own layout (no transposes).
 * - The head's final rank-8 reordering into image order becomes two cheaper transposes.
 * Same math; only float rounding changes (logits stay within ~1e-3 of the stock decoder, as tested).
 */
import {
  constantFloats,
  floatTensorInitializer,
  int64Initializer,
  type OnnxNode,
  opNode,
  type ParsedModel,
  withAdditions,
} from "./onnx-graph";
import type { ProtoField } from "./protobuf";

const PREFIX = "/batch_cpu";

function byName(model: ParsedModel): Map<string, OnnxNode> {
  return new Map(model.nodes.map((n) => [n.name, n]));
}

/** An elementary norm chain ending in `shifted` (Add) after `scaled` (Mul) whose first node is `first`. */
interface NormChain {
  input: string;
  scale: string;
  bias: string;
  epsilon: number;
  output: string;
  /** Its per-row mean and sqrt(var + eps), when the chain exposes them. */
  mean?: string;
  std?: string;
}

/** `/token_normN/…` chains (see `rewriteImageTokenNorms`). */
function tokenNormChains(model: ParsedModel): NormChain[] {
  const nodes = byName(model);
  const chains: NormChain[] = [];
  for (const shifted of model.nodes) {
    const m = /^(\/token_norm\d+)\/shifted$/.exec(shifted.name);
    if (!m || shifted.opType !== "Add") continue;
    const p = m[1]!;
    const mean = nodes.get(`${p}/mean`);
    const std = nodes.get(`${p}/std`);
    const scaled = nodes.get(`${p}/scaled`);
    const eps = constantFloats(model, `${p}/epsilon`);
    if (mean?.opType !== "ReduceMean" || std?.opType !== "Sqrt" || scaled?.opType !== "Mul" || !eps) continue;
    chains.push({
      input: mean.inputs[0]!,
      scale: scaled.inputs[1]!,
      bias: shifted.inputs[1]!,
      epsilon: eps.data[0]!,
      output: shifted.outputs[0]!,
      mean: mean.outputs[0]!,
      std: std.outputs[0]!,
    });
  }
  return chains;
}

/** The head norm written out by `foldHeadProjection` (`/head_fold/norm_…`). */
function headNormChain(model: ParsedModel): NormChain | undefined {
  const nodes = byName(model);
  const squared = nodes.get("/head_fold/norm_squared");
  const scaled = nodes.get("/head_fold/norm_scaled");
  const shifted = nodes.get("/head_fold/norm_shifted");
  const eps = constantFloats(model, "/head_fold/norm_epsilon");
  if (squared?.opType !== "Mul" || scaled?.opType !== "Mul" || shifted?.opType !== "Add" || !eps)
    return undefined;
  return {
    input: squared.inputs[0]!,
    scale: scaled.inputs[1]!,
    bias: shifted.inputs[1]!,
    epsilon: eps.data[0]!,
    output: shifted.outputs[0]!,
  };
}

/** Every elementary token/head norm as one LayerNormalization (see the module comment). */
export function fuseNorms(model: ParsedModel): ParsedModel {
  const head = headNormChain(model);
  const chains = [...tokenNormChains(model), ...(head ? [head] : [])];
  const nodes: ProtoField[] = [];
  const rewire = new Map<string, string>();
  for (const [i, c] of chains.entries()) {
    const t = (s: string) => `${PREFIX}/norm${i}/${s}`;
    const outputs = c.mean ? [t("y"), t("mean"), t("inv_std")] : [t("y")];
    const attributes = [
      { name: "axis", int: -1 },
      { name: "epsilon", float: c.epsilon },
    ];
    nodes.push(opNode("LayerNormalization", t("norm"), [c.input, c.scale, c.bias], outputs, attributes));
    rewire.set(c.output, t("y"));
    if (c.mean && c.std) {
      nodes.push(opNode("Reciprocal", t("std"), [t("inv_std")], [t("std_out")]));
      rewire.set(c.mean, t("mean"));
      rewire.set(c.std, t("std_out"));
    }
  }
  if (nodes.length === 0) return model;
  return withAdditions(model, { nodes, initializers: [], rewire });
}

/** The image-to-token attentions' output bias folded into their values (see the module comment). */
export function foldAttentionOutputBias(model: ParsedModel): ParsedModel {
  const nodes: ProtoField[] = [];
  const initializers: ProtoField[] = [];
  const rewire = new Map<string, string>();
  const named = byName(model);
  for (const add of model.nodes) {
    const m = /^(.*image_to_token\/reassoc)\/output$/.exec(add.name);
    if (!m || add.opType !== "Add") continue;
    const p = m[1]!;
    const product = named.get(`${p}/p_m`);
    const wo = constantFloats(model, `${p}/wo`);
    const bias = constantFloats(model, add.inputs[1]!);
    if (product?.opType !== "MatMul" || add.inputs[0] !== product.outputs[0] || !wo || !bias) continue;
    const heads = wo.dims[0]!;
    const t = (s: string) => `${PREFIX}${p}/${s}`;
    initializers.push(
      floatTensorInitializer(
        t("bias_per_head"),
        [bias.data.length],
        bias.data.map((b) => b / heads),
      ),
    );
    nodes.push(
      opNode("Add", t("values"), [product.inputs[1]!, t("bias_per_head")], [t("values_out")]),
      opNode("MatMul", t("output"), [product.inputs[0]!, t("values_out")], [t("output_out")]),
    );
    rewire.set(add.outputs[0]!, t("output_out"));
  }
  if (nodes.length === 0) return model;
  return withAdditions(model, { nodes, initializers, rewire });
}

/**
 * The head's final reordering of the [B, 65536 pixels (i, j, a, b, a2, b2), 4 masks] logits into image order
 * [B, 4 masks, (i, a, a2), (j, b, b2)], in two cheaper transposes instead of one of rank 8: masks first
 * ([B, 4, 65536], a plain matrix transpose), then within each block row i: (j, a, b, a2, b2) -> (a, a2, j, b, b2).
 */
export function splitHeadTranspose(model: ParsedModel): ParsedModel {
  const nodes = byName(model);
  const blocks = nodes.get("/fast_head/blocks");
  const toImage = nodes.get("/fast_head/to_image");
  const lowRes = nodes.get("/fast_head/low_res");
  if (blocks?.opType !== "Reshape" || toImage?.opType !== "Transpose" || lowRes?.opType !== "Reshape")
    return model;
  if (toImage.inputs[0] !== blocks.outputs[0] || lowRes.inputs[0] !== toImage.outputs[0]) return model;
  const t = (s: string) => `${PREFIX}/head_order/${s}`;
  return withAdditions(model, {
    nodes: [
      opNode(
        "Transpose",
        t("masks_first"),
        [blocks.inputs[0]!],
        [t("masks_first_out")],
        [{ name: "perm", ints: [0, 2, 1] }],
      ),
      opNode(
        "Reshape",
        t("block_rows"),
        [t("masks_first_out"), t("shape_block_rows")],
        [t("block_rows_out")],
      ),
      opNode(
        "Transpose",
        t("interleave"),
        [t("block_rows_out")],
        [t("interleave_out")],
        [{ name: "perm", ints: [0, 2, 4, 1, 3, 5] }],
      ),
      opNode("Reshape", t("low_res"), [t("interleave_out"), lowRes.inputs[1]!], [t("low_res_out")]),
    ],
    initializers: [int64Initializer(t("shape_block_rows"), [-1, 64, 2, 2, 2, 2])],
    rewire: new Map([[lowRes.outputs[0]!, t("low_res_out")]]),
  });
}

/**
 * The attention scores' 1 / sqrt(head dim) scaling applied to the small per-prompt factor of the
 * reassociated score products (`rewriteAttention`) instead of to the [B, heads, rows, 4096] scores; and the
 * image-to-token softmax taken in the product's own [B, 4096, heads, tokens] layout (softmax is per row
 * of tokens, whatever the order of the other axes), which drops the two transposes around it.
 */
export function scaleScoreFactors(model: ParsedModel): ParsedModel {
  const named = byName(model);
  const nodes: ProtoField[] = [];
  const rewire = new Map<string, string>();
  const prefixes = new Set(
    model.nodes.flatMap((n) => {
      const m = /^(.*_attn(?:_token_to_image|_image_to_token)?)\/reassoc\/scores$/.exec(n.name);
      return m ? [m[1]!] : [];
    }),
  );
  for (const p of prefixes) {
    const scores = named.get(`${p}/reassoc/scores`);
    const scale = named.get(`${p}/Div_3`);
    if (scores?.opType !== "Add" || scale?.opType !== "Div" || scale.inputs[0] !== scores.outputs[0])
      continue;
    const c = scale.inputs[1]!;
    const t = (s: string) => `${PREFIX}${p}/scaled/${s}`;
    const rowsProduct = named.get(`${p}/reassoc/scores_rows`);
    const headsReshape = named.get(`${p}/reassoc/scores_heads`);
    const queriesProduct = named.get(`${p}/reassoc/x_g`);
    const queriesHeads = named.get(`${p}/reassoc/x_g_heads`);
    const softmax = named.get(`${p}/Softmax`);
    const probsRows = named.get(`${p}/reassoc/p`);
    if (rowsProduct?.opType === "MatMul" && headsReshape?.opType === "Reshape") {
      // token -> image: scores = Reshape(q_wk_rows k^T) + q_bk
      if (scores.inputs[0] !== headsReshape.outputs[0] || headsReshape.inputs[0] !== rowsProduct.outputs[0])
        continue;
      nodes.push(
        opNode("Div", t("q_wk"), [rowsProduct.inputs[0]!, c], [t("q_wk_out")]),
        opNode("MatMul", t("rows"), [t("q_wk_out"), rowsProduct.inputs[1]!], [t("rows_out")]),
        opNode("Reshape", t("heads"), [t("rows_out"), headsReshape.inputs[1]!], [t("heads_out")]),
        opNode("Div", t("q_bk"), [scores.inputs[1]!, c], [t("q_bk_out")]),
        opNode("Add", t("scores"), [t("heads_out"), t("q_bk_out")], [t("scores_out")]),
      );
      rewire.set(scale.outputs[0]!, t("scores_out"));
    } else if (
      queriesProduct?.opType === "MatMul" &&
      queriesHeads?.opType === "Reshape" &&
      softmax?.opType === "Softmax" &&
      softmax.inputs[0] === scale.outputs[0] &&
      probsRows?.opType === "Reshape"
    ) {
      // image -> token: scores = Transpose(Reshape(X G, [B, 4096, heads, tokens])) + b_q k^T, then the
      // softmax, transposed back and flattened to [B, 4096, heads x tokens] (`probsRows`)
      nodes.push(
        opNode("Div", t("g"), [queriesProduct.inputs[1]!, c], [t("g_out")]),
        opNode("MatMul", t("x_g"), [queriesProduct.inputs[0]!, t("g_out")], [t("x_g_out")]),
        opNode("Reshape", t("x_g_heads"), [t("x_g_out"), queriesHeads.inputs[1]!], [t("x_g_heads_out")]),
        opNode(
          "Transpose",
          t("bq_k_t"),
          [scores.inputs[1]!],
          [t("bq_k_t_out")],
          [{ name: "perm", ints: [0, 2, 1, 3] }],
        ),
        opNode("Div", t("bq_k"), [t("bq_k_t_out"), c], [t("bq_k_out")]),
        opNode("Add", t("scores"), [t("x_g_heads_out"), t("bq_k_out")], [t("scores_out")]),
        opNode("Softmax", t("softmax"), [t("scores_out")], [t("probs_out")], [{ name: "axis", int: -1 }]),
        opNode("Reshape", t("p"), [t("probs_out"), probsRows.inputs[1]!], [t("p_out")]),
      );
      rewire.set(probsRows.outputs[0]!, t("p_out"));
    }
  }
  if (nodes.length === 0) return model;
  return withAdditions(model, { nodes, initializers: [], rewire });
}

/** All of the above. */
export function rewriteForCpu(model: ParsedModel): ParsedModel {
  return scaleScoreFactors(splitHeadTranspose(foldAttentionOutputBias(fuseNorms(model))));
}
