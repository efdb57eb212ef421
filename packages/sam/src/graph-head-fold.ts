/**
 * The mask head's first upscaling product computed from per-image projections plus low-rank per-click
 * terms, instead of one image-sized product per click. Exact math; only the float summation order changes.
 *
 * The transformer's image side after its two layers is, per image token (row) i,
 *   z = k0 + P1 M1 + b1                     (k0: src, per image; P1 M1 + b1: image-to-token attention)
 *   keys1 = (z - n) / r * g1 + e1           (norm4 of layer 0: mean n, std r)
 *   y = keys1 + P2 M2 + b2                  (layer 1's image-to-token attention)
 *   keys2 = (y - m) / s * g2 + e2           (norm4 of layer 1)
 * and the head's first step is keys2 W + c (the ConvTranspose as a Gemm, see `rewriteUpscalingHead`).
 * P1, P2 are the attention probabilities [4096, tokens x heads] and M1, M2 the tokens' values through the
 * output projection [tokens x heads, 256] (see `rewriteCrossAttention`). Pushing W through both norms:
 *   keys2 W + c = ((k0 W1 + [P1 | n | 1] [M1 W1; -1'W1; b1 W1]) / r
 *                  + [P2 | m | 1 | s] [M2 W2; -1'W2; (e1 + b2) W2; e2 W + c]) / s
 * with W2 = diag(g2) W and W1 = diag(g1) W2. k0 W1 depends on the image only, so `prepare` computes it
 * once; per click two Gemms of 4096 x (tokens x heads + 2..3) x 256 multiply-adds replace the
 * 4096 x 256 x 256 product, and keys2 itself is still computed for the final attention.
 *
 * The head then normalises each upscaled pixel's channels (LayerNorm2d, a LayerNormalization over groups of
 * C columns). Subtracting a group's mean is linear, so it is folded into the weights above (each group of
 * columns centred): the product comes out centred and the norm only divides by sqrt(mean of squares + eps),
 * written as elementary ops (faster than ORT-web's WASM LayerNormalization, see `graph-layernorm.ts`).
 */
import { epsilonOf, matchTokenNorm, type TokenNorm } from "./graph-layernorm";
import {
  constantFloats,
  floatInitializer,
  floatTensorInitializer,
  int64Initializer,
  intAttribute,
  type OnnxNode,
  opNode,
  type ParsedModel,
  producerMap,
  withAdditions,
} from "./onnx-graph";

const PREFIX = "/head_fold";
/** Image tokens (64 x 64). */
const ROWS = 4096;

/** `residual + (P M + b)`: a residual add of a reassociated image-to-token attention's output. */
interface AttentionResidual {
  residual: string;
  probs: string;
  values: string;
  bias: Float32Array;
}

function matchAttentionResidual(model: ParsedModel, sum: string): AttentionResidual | undefined {
  const produced = producerMap(model.nodes);
  const add = produced.get(sum);
  if (add?.opType !== "Add") return undefined;
  for (const [k, candidate] of add.inputs.entries()) {
    const output = produced.get(candidate);
    if (output?.opType !== "Add") continue;
    const product = produced.get(output.inputs[0]!);
    const bias = constantFloats(model, output.inputs[1]!);
    if (product?.opType !== "MatMul" || !product.name.endsWith("/reassoc/p_m") || !bias) continue;
    return {
      residual: add.inputs[1 - k]!,
      probs: product.inputs[0]!,
      values: product.inputs[1]!,
      bias: bias.data,
    };
  }
  return undefined;
}

/** rows x cols matrix times a rows-vector on the left: out[j] = sum_k v[k] w[k][j]. */
function vecMat(v: ArrayLike<number>, w: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let k = 0; k < rows; k++) {
    const a = v[k]!;
    if (a !== 0) for (let j = 0; j < cols; j++) out[j] = out[j]! + a * w[k * cols + j]!;
  }
  return out;
}

/** Each group of `group` consecutive columns minus its mean, in every row (in place). */
function centreGroups(w: Float64Array, rows: number, cols: number, group: number): Float64Array {
  for (let k = 0; k < rows; k++)
    for (let g = 0; g < cols; g += group) {
      let mean = 0;
      for (let j = g; j < g + group; j++) mean += w[k * cols + j]!;
      mean /= group;
      for (let j = g; j < g + group; j++) w[k * cols + j] = w[k * cols + j]! - mean;
    }
  return w;
}

function scaleRows(w: ArrayLike<number>, g: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let k = 0; k < rows; k++) for (let j = 0; j < cols; j++) out[k * cols + j] = g[k]! * w[k * cols + j]!;
  return out;
}

/**
 * Rewrites the head's first Gemm (`upscale`, named by `rewriteUpscalingHead`) as described above, or
 * returns undefined (nothing changed) when the transformer's image side is not the expected chain.
 */
export function foldHeadProjection(model: ParsedModel, upscale: string): ParsedModel | undefined {
  const produced = producerMap(model.nodes);
  const gemm: OnnxNode | undefined = model.nodes.find((n) => n.opType === "Gemm" && n.name === upscale);
  const rows = gemm && produced.get(gemm.inputs[0]!);
  if (!gemm || rows?.opType !== "Reshape" || gemm.inputs.length !== 3) return undefined;
  const w = constantFloats(model, gemm.inputs[1]!);
  const c = constantFloats(model, gemm.inputs[2]!);
  if (!w || !c || w.dims.length !== 2) return undefined;
  const [cin, cols] = w.dims as [number, number];
  const norm2: TokenNorm | undefined = matchTokenNorm(model, rows.inputs[0]!);
  const layer1 = norm2 && matchAttentionResidual(model, norm2.input);
  const norm1 = layer1 && matchTokenNorm(model, layer1.residual);
  const layer0 = norm1 && matchAttentionResidual(model, norm1.input);
  if (!norm2 || !layer1 || !norm1 || !layer0) return undefined;
  if ([norm1.scale, norm2.scale, layer0.bias, layer1.bias].some((v) => v.length !== cin)) return undefined;
  // the head's norm: Reshape(product, [-1, C]) -> LayerNormalization over C
  const toPixels = model.nodes.find((n) => n.opType === "Reshape" && n.inputs[0] === gemm.outputs[0]);
  const headNorm = toPixels
    ? model.nodes.find((n) => n.opType === "LayerNormalization" && n.inputs[0] === toPixels.outputs[0])
    : undefined;
  const group = headNorm && constantFloats(model, headNorm.inputs[1]!)?.data.length;
  if (!toPixels || !headNorm || !group || cols % group !== 0 || (intAttribute(headNorm, "axis") ?? -1) !== -1)
    return undefined;
  const pixels = toPixels.outputs[0]!;

  // centring the columns of every term centres their sum
  const w2 = centreGroups(scaleRows(w.data, norm2.scale, cin, cols), cin, cols, group);
  const w1 = scaleRows(w2, norm1.scale, cin, cols);
  const ones = new Float64Array(cin).fill(1);
  const inner = new Float64Array(cin);
  for (let k = 0; k < cin; k++) inner[k] = norm1.bias[k]! + layer1.bias[k]!;
  const outerBias = vecMat(norm2.bias, w.data, cin, cols);
  for (let j = 0; j < cols; j++) outerBias[j] = outerBias[j]! + c.data[j]!;
  centreGroups(outerBias, 1, cols, group);
  const neg = (v: Float64Array) => v.map((x) => -x);
  const f32 = (...vs: Float64Array[]) => {
    const out = new Float32Array(vs.length * cols);
    for (const [i, v] of vs.entries()) out.set(v, i * cols);
    return out;
  };

  const t = (s: string) => `${PREFIX}/${s}`;
  const nodes = [
    // per image (`prepare` takes it: it reads src only)
    opNode("MatMul", t("k0_w1"), [layer0.residual, t("w1")], [t("k0_w1_out")]),
    opNode("Reshape", t("k0_w1_rows"), [t("k0_w1_out"), t("shape_rows")], [t("k0_w1_rows_out")]),
    // layer 0 terms, then / r
    opNode("Reshape", t("m1_rows"), [layer0.values, t("shape_values")], [t("m1_rows_out")]),
    opNode("MatMul", t("m1_w1"), [t("m1_rows_out"), t("w1")], [t("m1_w1_out")]),
    opNode("Concat", t("b1"), [t("m1_w1_out"), t("b1_const")], [t("b1_out")], [{ name: "axis", int: 0 }]),
    opNode(
      "Concat",
      t("a1"),
      [layer0.probs, norm1.mean, t("ones")],
      [t("a1_out")],
      [{ name: "axis", int: -1 }],
    ),
    opNode("Reshape", t("a1_rows"), [t("a1_out"), t("shape_rows")], [t("a1_rows_out")]),
    opNode("Gemm", t("t1"), [t("a1_rows_out"), t("b1_out"), t("k0_w1_rows_out")], [t("t1_out")]),
    opNode("Reshape", t("r_rows"), [norm1.std, t("shape_col")], [t("r_rows_out")]),
    opNode("Div", t("t2"), [t("t1_out"), t("r_rows_out")], [t("t2_out")]),
    // layer 1 terms and the head's bias, then / s
    opNode("Reshape", t("m2_rows"), [layer1.values, t("shape_values")], [t("m2_rows_out")]),
    opNode("MatMul", t("m2_w2"), [t("m2_rows_out"), t("w2")], [t("m2_w2_out")]),
    opNode("Concat", t("b2"), [t("m2_w2_out"), t("b2_const")], [t("b2_out")], [{ name: "axis", int: 0 }]),
    opNode(
      "Concat",
      t("a2"),
      [layer1.probs, norm2.mean, t("ones"), norm2.std],
      [t("a2_out")],
      [{ name: "axis", int: -1 }],
    ),
    opNode("Reshape", t("a2_rows"), [t("a2_out"), t("shape_rows")], [t("a2_rows_out")]),
    opNode("Gemm", t("u"), [t("a2_rows_out"), t("b2_out"), t("t2_out")], [t("u_out")]),
    opNode("Reshape", t("s_rows"), [norm2.std, t("shape_col")], [t("s_rows_out")]),
    opNode("Div", t("out"), [t("u_out"), t("s_rows_out")], [t("out_out")]),
    // the head's norm of the centred pixels
    opNode("Mul", t("norm_squared"), [pixels, pixels], [t("norm_squared_out")]),
    opNode(
      "ReduceMean",
      t("norm_var"),
      [t("norm_squared_out")],
      [t("norm_var_out")],
      [{ name: "axes", ints: [-1] }],
    ),
    opNode("Add", t("norm_var_eps"), [t("norm_var_out"), t("norm_epsilon")], [t("norm_var_eps_out")]),
    opNode("Sqrt", t("norm_std"), [t("norm_var_eps_out")], [t("norm_std_out")]),
    opNode("Div", t("norm_normalised"), [pixels, t("norm_std_out")], [t("norm_normalised_out")]),
    opNode("Mul", t("norm_scaled"), [t("norm_normalised_out"), headNorm.inputs[1]!], [t("norm_scaled_out")]),
    opNode("Add", t("norm_shifted"), [t("norm_scaled_out"), headNorm.inputs[2]!], [t("norm_out")]),
  ];
  const initializers = [
    floatTensorInitializer(t("w1"), [cin, cols], Float32Array.from(w1)),
    floatTensorInitializer(t("w2"), [cin, cols], Float32Array.from(w2)),
    floatTensorInitializer(
      t("b1_const"),
      [2, cols],
      f32(neg(vecMat(ones, w1, cin, cols)), vecMat(layer0.bias, w1, cin, cols)),
    ),
    floatTensorInitializer(
      t("b2_const"),
      [3, cols],
      f32(neg(vecMat(ones, w2, cin, cols)), vecMat(inner, w2, cin, cols), outerBias),
    ),
    floatTensorInitializer(t("ones"), [1, ROWS, 1], new Float32Array(ROWS).fill(1)),
    int64Initializer(t("shape_rows"), [ROWS, -1]),
    int64Initializer(t("shape_values"), [-1, cin]),
    int64Initializer(t("shape_col"), [ROWS, 1]),
    floatInitializer(t("norm_epsilon"), [], [epsilonOf(headNorm)]),
  ];
  return withAdditions(model, {
    nodes,
    initializers,
    rewire: new Map([
      [gemm.outputs[0]!, t("out_out")],
      [headNorm.outputs[0]!, t("norm_out")],
    ]),
  });
}
