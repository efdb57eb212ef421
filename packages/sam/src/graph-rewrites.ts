/**
 * Exact-math rewrites of SAM's decoder graph for faster CPU/WASM inference: same weights, same formulas,
 * only the float summation order (and the layout of intermediate tensors) changes.
 *
 * `rewriteUpscalingHead` replaces the mask head
 *   ConvTranspose(k2,s2) -> LayerNorm2d (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add) -> GELU
 *   -> ConvTranspose(k2,s2) -> GELU -> hypernetwork MatMul -> [B,4,256,256]
 * by a channels-last version. A kernel-2 / stride-2 / unpadded ConvTranspose maps every input pixel to
 * its own 2x2 output block, so it is a Gemm [pixels, Cin] x [Cin, (a, b, Cout)] + bias, and as long as
 * the head stays per-pixel the blocks never need to be put back in image order: the second
 * ConvTranspose, the normalisation over channels (one LayerNormalization over the last axis), the GELUs
 * and the per-pixel hypernetwork product all work on rows in (i, j, a, b, a2, b2) order. One Transpose of
 * the [B, 65536, 4] result puts the four masks into image order at the end.
 */
import {
  constantFloats,
  floatTensorInitializer,
  int64Initializer,
  intAttribute,
  intsAttribute,
  type OnnxNode,
  opNode,
  type ParsedModel,
  producerMap,
  withAdditions,
} from "./onnx-graph";
import type { ProtoField } from "./protobuf";

export interface RewrittenModel {
  model: ParsedModel;
  /** Tensor names of the original model -> the rewritten model's tensors that replace them. */
  replaced: Map<string, string>;
}

const PREFIX = "/fast_head";
/** The channels-last head's first Gemm (the first ConvTranspose), see `foldHeadProjection`. */
export const HEAD_FIRST_GEMM = `${PREFIX}/up0`;
/** The image-embedding side length the head upsamples (64 -> 256). */
const SIDE_IN = 64;

/** The nodes reading each tensor. */
export function consumers(nodes: readonly OnnxNode[]): Map<string, OnnxNode[]> {
  const m = new Map<string, OnnxNode[]>();
  for (const n of nodes)
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  return m;
}

/** The value of a one-element float constant, or undefined. */
export function scalar(model: ParsedModel, tensor: string | undefined): number | undefined {
  if (!tensor) return undefined;
  const t = constantFloats(model, tensor);
  return t && t.data.length === 1 ? t.data[0] : undefined;
}

const close = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

/** The exact GELU chain x * (1 + erf(x / sqrt2)) * 0.5 starting at `x`; its nodes, or undefined. */
function matchGelu(model: ParsedModel, uses: Map<string, OnnxNode[]>, x: string): OnnxNode[] | undefined {
  const only = (t: string, op: string) => {
    const u = uses.get(t) ?? [];
    return u.length === 1 && u[0]!.opType === op ? u[0] : undefined;
  };
  const xUses = uses.get(x) ?? [];
  const div = xUses.find((n) => n.opType === "Div" && n.inputs[0] === x);
  if (!div || !close(scalar(model, div.inputs[1]), Math.SQRT2)) return undefined;
  const erf = only(div.outputs[0]!, "Erf");
  const add = erf && only(erf.outputs[0]!, "Add");
  if (!add) return undefined;
  const one = add.inputs[0] === erf.outputs[0] ? add.inputs[1] : add.inputs[0];
  if (scalar(model, one) !== 1) return undefined;
  const mul = only(add.outputs[0]!, "Mul");
  if (!mul?.inputs.includes(x)) return undefined;
  const mulHalf = only(mul.outputs[0]!, "Mul");
  if (!mulHalf) return undefined;
  const half = mulHalf.inputs[0] === mul.outputs[0] ? mulHalf.inputs[1] : mulHalf.inputs[0];
  if (scalar(model, half) !== 0.5) return undefined;
  if (xUses.length !== 2) return undefined;
  return [div, erf, add, mul, mulHalf];
}

/** GELU as the same five ops with the stock constants, on `x`. */
function geluNodes(gelu: OnnxNode[], x: string, out: string, name: string): ProtoField[] {
  const [div, erf, add, mul, mulHalf] = gelu as [OnnxNode, OnnxNode, OnnxNode, OnnxNode, OnnxNode];
  const t = (s: string) => `${name}/${s}`;
  const other = (n: OnnxNode, known: string) => (n.inputs[0] === known ? n.inputs[1]! : n.inputs[0]!);
  return [
    opNode("Div", t("Div"), [x, div.inputs[1]!], [t("Div_output")]),
    opNode("Erf", t("Erf"), [t("Div_output")], [t("Erf_output")]),
    opNode("Add", t("Add"), [t("Erf_output"), other(add, erf.outputs[0]!)], [t("Add_output")]),
    opNode("Mul", t("Mul"), [x, t("Add_output")], [t("Mul_output")]),
    opNode("Mul", t("Mul_1"), [t("Mul_output"), other(mulHalf, mul.outputs[0]!)], [out]),
  ];
}

interface LayerNorm2d {
  weight: Float32Array;
  bias: Float32Array;
  epsilon: number;
  output: string;
}

/** SAM's LayerNorm2d over the channels (axis 1) of `x`, built from elementary ops. */
function matchLayerNorm2d(
  model: ParsedModel,
  uses: Map<string, OnnxNode[]>,
  x: string,
): LayerNorm2d | undefined {
  const only = (t: string, op: string) => {
    const u = uses.get(t) ?? [];
    return u.length === 1 && u[0]!.opType === op ? u[0] : undefined;
  };
  const channelMean = (n: OnnxNode | undefined) =>
    n?.opType === "ReduceMean" &&
    n.inputs.length === 1 &&
    intAttribute(n, "keepdims") === 1 &&
    intsAttribute(n, "axes")?.join() === "1";
  const xUses = uses.get(x) ?? [];
  const mean = xUses.find((n) => n.opType === "ReduceMean");
  const sub = xUses.find((n) => n.opType === "Sub");
  if (xUses.length !== 2 || !channelMean(mean) || !sub || sub.inputs[0] !== x) return undefined;
  if (sub.inputs[1] !== mean!.outputs[0]) return undefined;
  const centred = sub.outputs[0]!;
  const cUses = uses.get(centred) ?? [];
  const pow = cUses.find((n) => n.opType === "Pow");
  const div = cUses.find((n) => n.opType === "Div");
  if (cUses.length !== 2 || !pow || !div || scalar(model, pow.inputs[1]) !== 2 || div.inputs[0] !== centred)
    return undefined;
  const variance = only(pow.outputs[0]!, "ReduceMean");
  if (!channelMean(variance)) return undefined;
  const addEps = only(variance!.outputs[0]!, "Add");
  const epsilon = scalar(model, addEps?.inputs[1]);
  if (!addEps || epsilon === undefined) return undefined;
  const sqrt = only(addEps.outputs[0]!, "Sqrt");
  if (!sqrt || div.inputs[1] !== sqrt.outputs[0]) return undefined;
  const mul = only(div.outputs[0]!, "Mul");
  const add = mul && only(mul.outputs[0]!, "Add");
  if (!mul || !add) return undefined;
  const weight = constantFloats(model, mul.inputs[0] === div.outputs[0] ? mul.inputs[1]! : mul.inputs[0]!);
  const bias = constantFloats(model, add.inputs[0] === mul.outputs[0] ? add.inputs[1]! : add.inputs[0]!);
  if (!weight || !bias || weight.data.length !== bias.data.length) return undefined;
  if (weight.dims.slice(1).some((d) => d !== 1) || bias.dims.slice(1).some((d) => d !== 1)) return undefined;
  return { weight: weight.data, bias: bias.data, epsilon, output: add.outputs[0]! };
}

/** A kernel 2, stride 2, unpadded, ungrouped ConvTranspose's weight and bias. */
function convTranspose2x2(model: ParsedModel, n: OnnxNode | undefined) {
  if (n?.opType !== "ConvTranspose" || n.inputs.length !== 3) return undefined;
  if (intsAttribute(n, "kernel_shape")?.join() !== "2,2" || intsAttribute(n, "strides")?.join() !== "2,2")
    return undefined;
  const pads = intsAttribute(n, "pads");
  if (pads?.some((p) => p !== 0)) return undefined;
  const dil = intsAttribute(n, "dilations");
  if (dil?.some((d) => d !== 1)) return undefined;
  if ((intAttribute(n, "group") ?? 1) !== 1) return undefined;
  if (intsAttribute(n, "output_padding")?.some((p) => p !== 0)) return undefined;
  if (intsAttribute(n, "output_shape")) return undefined;
  const w = constantFloats(model, n.inputs[1]!);
  const b = constantFloats(model, n.inputs[2]!);
  if (!w || !b || w.dims.length !== 4 || w.dims[2] !== 2 || w.dims[3] !== 2) return undefined;
  const [cin, cout] = w.dims as [number, number];
  if (b.data.length !== cout) return undefined;
  // [Cin, Cout, a, b] -> [Cin, (a, b, Cout)]; bias repeated per (a, b)
  const gemmW = new Float32Array(cin * 4 * cout);
  for (let ci = 0; ci < cin; ci++)
    for (let co = 0; co < cout; co++)
      for (let k = 0; k < 4; k++) gemmW[ci * 4 * cout + k * cout + co] = w.data[(ci * cout + co) * 4 + k]!;
  const gemmB = new Float32Array(4 * cout);
  for (let k = 0; k < 4; k++) gemmB.set(b.data, k * cout);
  return { cin, cout, gemmW, gemmB };
}

/**
 * The channels-last mask head (see the module comment) for the head computing `lowResMasks`
 * ([B, 4, 256, 256] in the stock graph). Returns undefined, changing nothing, when the graph is not
 * the stock SAM head this was written for.
 */
export function rewriteUpscalingHead(model: ParsedModel, lowResMasks: string): RewrittenModel | undefined {
  const produced = producerMap(model.nodes);
  const uses = consumers(model.nodes);
  // lowRes = Reshape(MatMul(hyper_in [B,4,C2], Reshape(GELU(ConvT1(GELU(LN2d(ConvT0(Reshape(Transpose(src)))))))))
  const finalReshape = produced.get(lowResMasks);
  if (finalReshape?.opType !== "Reshape") return undefined;
  const product = produced.get(finalReshape.inputs[0]!);
  if (product?.opType !== "MatMul") return undefined;
  const [hyperIn, flatUpscaled] = product.inputs as [string, string];
  const flatten = produced.get(flatUpscaled);
  if (flatten?.opType !== "Reshape") return undefined;
  const gelu1Out = flatten.inputs[0]!;
  const gelu1 = produced.get(gelu1Out);
  const conv1Out = gelu1?.inputs[0] && produced.get(gelu1.inputs[0])?.inputs[0];
  const conv1 = conv1Out ? produced.get(conv1Out) : undefined;
  const gelu1Nodes = conv1Out ? matchGelu(model, uses, conv1Out) : undefined;
  if (!gelu1Nodes || gelu1Nodes[4]!.outputs[0] !== gelu1Out) return undefined;
  const c1 = convTranspose2x2(model, conv1);
  if (!c1) return undefined;
  const conv0 = model.nodes.find((n) => n.opType === "ConvTranspose" && n !== conv1);
  const c0 = convTranspose2x2(model, conv0);
  const norm = conv0 && matchLayerNorm2d(model, uses, conv0.outputs[0]!);
  if (!c0 || !norm || norm.weight.length !== c0.cout || c1.cin !== c0.cout) return undefined;
  const gelu0Nodes = matchGelu(model, uses, norm.output);
  if (!gelu0Nodes || gelu0Nodes[4]!.outputs[0] !== conv1!.inputs[0]) return undefined;
  // ConvT0's input: Reshape([B, C0, 64, 64], Transpose([B, HW, C0], perm 0,2,1)) -> src is channels-last already
  const toImage = produced.get(conv0!.inputs[0]!);
  const transpose = toImage?.opType === "Reshape" ? produced.get(toImage.inputs[0]!) : undefined;
  if (transpose?.opType !== "Transpose" || intsAttribute(transpose, "perm")?.join() !== "0,2,1")
    return undefined;
  const src = transpose.inputs[0]!;

  const size = SIDE_IN;
  const t = (s: string) => `${PREFIX}/${s}`;
  const C2 = c1.cout;
  const nodes: ProtoField[] = [
    opNode("Reshape", t("rows0"), [src, t("shape_rows0")], [t("rows0_output")]),
    opNode("Gemm", t("up0"), [t("rows0_output"), t("up0.weight"), t("up0.bias")], [t("up0_output")]),
    opNode("Reshape", t("rows1"), [t("up0_output"), t("shape_rows1")], [t("rows1_output")]),
    opNode(
      "LayerNormalization",
      t("norm"),
      [t("rows1_output"), t("norm.weight"), t("norm.bias")],
      [t("norm_output")],
      [
        { name: "axis", int: -1 },
        { name: "epsilon", float: norm.epsilon },
      ],
    ),
    ...geluNodes(gelu0Nodes, t("norm_output"), t("act0_output"), t("act0")),
    opNode("Gemm", t("up1"), [t("act0_output"), t("up1.weight"), t("up1.bias")], [t("up1_output")]),
    opNode("Reshape", t("rows2"), [t("up1_output"), t("shape_rows2")], [t("rows2_output")]),
    ...geluNodes(gelu1Nodes, t("rows2_output"), t("act1_output"), t("act1")),
    opNode("Transpose", t("hyper_t"), [hyperIn], [t("hyper_t_output")], [{ name: "perm", ints: [0, 2, 1] }]),
    opNode("MatMul", t("masks"), [t("act1_output"), t("hyper_t_output")], [t("masks_output")]),
    opNode("Reshape", t("blocks"), [t("masks_output"), t("shape_blocks")], [t("blocks_output")]),
    // [B, i, j, a, b, a2, b2, k] -> [B, k, i, a, a2, j, b, b2]: y = 4i + 2a + a2, x = 4j + 2b + b2
    opNode(
      "Transpose",
      t("to_image"),
      [t("blocks_output")],
      [t("to_image_output")],
      [{ name: "perm", ints: [0, 7, 1, 3, 5, 2, 4, 6] }],
    ),
    opNode("Reshape", t("low_res"), [t("to_image_output"), t("shape_low_res")], [t("low_res_output")]),
  ];
  const pixels = 16 * size * size;
  const initializers: ProtoField[] = [
    int64Initializer(t("shape_rows0"), [-1, c0.cin]),
    floatTensorInitializer(t("up0.weight"), [c0.cin, 4 * c0.cout], c0.gemmW),
    floatTensorInitializer(t("up0.bias"), [4 * c0.cout], c0.gemmB),
    int64Initializer(t("shape_rows1"), [-1, c0.cout]),
    floatTensorInitializer(t("norm.weight"), [c0.cout], norm.weight),
    floatTensorInitializer(t("norm.bias"), [c0.cout], norm.bias),
    floatTensorInitializer(t("up1.weight"), [c1.cin, 4 * C2], c1.gemmW),
    floatTensorInitializer(t("up1.bias"), [4 * C2], c1.gemmB),
    int64Initializer(t("shape_rows2"), [-1, pixels, C2]),
    int64Initializer(t("shape_blocks"), [-1, size, size, 2, 2, 2, 2, 4]),
    int64Initializer(t("shape_low_res"), [-1, 4, 4 * size, 4 * size]),
  ];
  return {
    model: withAdditions(model, { nodes, initializers }),
    replaced: new Map([[lowResMasks, t("low_res_output")]]),
  };
}

/** One of SAM's `Attention` modules, by its nodes' names (`${prefix}/q_proj/MatMul`…). */
export interface AttentionModule {
  prefix: string;
  heads: number;
  headDim: number;
  /** Inputs of the q/k/v projections (before the projection). */
  qIn: string;
  kIn: string;
  vIn: string;
  /** [in, internal] weights and [internal] biases; out_proj [internal, out], [out]. */
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wo: Float32Array;
  dim: number;
  internal: number;
  outDim: number;
  /** Scores q_h k_h^T [B, heads, Nq, Nk] (before the 1/sqrt(headDim) scaling) and its inputs. */
  scores: string;
  qHeads: string;
  kHeadsT: string;
  /** Softmax(scores) and the per-head values [B, heads, Nk, headDim]; their product [B, heads, Nq, headDim]. */
  probs: string;
  vHeads: string;
  attended: string;
  /** out_proj(…) + bias, and the bias. */
  output: string;
  bo: string;
}

/** The attention module whose nodes are named `${prefix}/…`, or undefined when it is not SAM's `Attention`. */
export function matchAttention(model: ParsedModel, prefix: string): AttentionModule | undefined {
  const byName = new Map(model.nodes.map((n) => [n.name, n]));
  const get = (s: string) => byName.get(`${prefix}/${s}`);
  const proj = (p: string) => {
    const mm = get(`${p}/MatMul`);
    const add = get(`${p}/Add`);
    if (mm?.opType !== "MatMul" || add?.opType !== "Add" || !add.inputs.includes(mm.outputs[0]!))
      return undefined;
    const w = constantFloats(model, mm.inputs[1]!);
    const bName = add.inputs[0] === mm.outputs[0] ? add.inputs[1]! : add.inputs[0]!;
    const b = constantFloats(model, bName);
    if (!w || !b || w.dims.length !== 2 || b.data.length !== w.dims[1]) return undefined;
    return { input: mm.inputs[0]!, w, b, bName, output: add.outputs[0]! };
  };
  const q = proj("q_proj");
  const k = proj("k_proj");
  const v = proj("v_proj");
  const o = proj("out_proj");
  const scores = get("MatMul");
  const scale = get("Div_3");
  const softmax = get("Softmax");
  const attended = get("MatMul_1");
  if (!q || !k || !v || !o || scores?.opType !== "MatMul" || attended?.opType !== "MatMul" || !softmax)
    return undefined;
  if (
    scale?.opType !== "Div" ||
    scale.inputs[0] !== scores.outputs[0] ||
    softmax?.inputs[0] !== scale.outputs[0]
  )
    return undefined;
  if (attended.inputs[0] !== softmax.outputs[0]) return undefined;
  const sqrtHeadDim = scalar(model, scale.inputs[1]);
  const [dim, internal] = q.w.dims as [number, number];
  if (!sqrtHeadDim || k.w.dims[1] !== internal || v.w.dims[1] !== internal || o.w.dims[0] !== internal)
    return undefined;
  const headDim = Math.round(sqrtHeadDim * sqrtHeadDim);
  if (Math.abs(Math.sqrt(headDim) - sqrtHeadDim) > 1e-6 || internal % headDim !== 0) return undefined;
  if (k.w.dims[0] !== dim || v.w.dims[0] !== dim) return undefined;
  // the head split the module does: q/k/v projections -> Reshape -> Transpose -> the two MatMuls
  const produced = producerMap(model.nodes);
  const splitOf = (t: string) => {
    const tr = produced.get(t);
    const rs = tr?.opType === "Transpose" ? produced.get(tr.inputs[0]!) : undefined;
    return rs?.opType === "Reshape"
      ? { perm: intsAttribute(tr!, "perm")?.join(), from: rs.inputs[0] }
      : undefined;
  };
  const qs = splitOf(scores.inputs[0]!);
  const ks = splitOf(scores.inputs[1]!);
  const vs = splitOf(attended.inputs[1]!);
  if (qs?.from !== q.output || qs.perm !== "0,2,1,3") return undefined;
  if (ks?.from !== k.output || ks.perm !== "0,2,3,1") return undefined;
  if (vs?.from !== v.output || vs.perm !== "0,2,1,3") return undefined;
  // attended -> Transpose(0,2,1,3) -> Reshape -> out_proj
  const outMatMul = get("out_proj/MatMul")!;
  const merged = produced.get(outMatMul.inputs[0]!);
  const mergeT = merged?.opType === "Reshape" ? produced.get(merged.inputs[0]!) : undefined;
  if (mergeT?.opType !== "Transpose" || mergeT.inputs[0] !== attended.outputs[0]) return undefined;
  if (intsAttribute(mergeT, "perm")?.join() !== "0,2,1,3") return undefined;
  return {
    prefix,
    heads: internal / headDim,
    headDim,
    qIn: q.input,
    kIn: k.input,
    vIn: v.input,
    wq: q.w.data,
    bq: q.b.data,
    wk: k.w.data,
    bk: k.b.data,
    wv: v.w.data,
    bv: v.b.data,
    wo: o.w.data,
    dim,
    internal,
    outDim: o.w.dims[1]!,
    scores: scores.outputs[0]!,
    qHeads: scores.inputs[0]!,
    kHeadsT: scores.inputs[1]!,
    probs: softmax.outputs[0]!,
    vHeads: attended.inputs[1]!,
    attended: attended.outputs[0]!,
    output: o.output,
    bo: o.bName,
  };
}

/** [in, heads*hd] -> per head [heads, in, hd] (`transposed`: [heads, hd, in]). */
function perHead(
  w: Float32Array,
  rows: number,
  heads: number,
  hd: number,
  transposed: boolean,
): Float32Array {
  const out = new Float32Array(w.length);
  const cols = heads * hd;
  for (let r = 0; r < rows; r++)
    for (let h = 0; h < heads; h++)
      for (let d = 0; d < hd; d++) {
        const v = w[r * cols + h * hd + d]!;
        out[transposed ? (h * hd + d) * rows + r : (h * rows + r) * hd + d] = v;
      }
  return out;
}

/**
 * Reassociates the attention products with the image side (4096 rows) so that the image-sized
 * projections disappear, by (A B) C = A (B C) and, for the values, softmax rows summing to 1:
 *
 * - "keys" (token -> image attention; the image is the keys and values): scores_h = q_h (X_k W_k,h + b_k,h)^T
 *   = (q_h W_k,h^T) X_k^T + q_h b_k,h, and P_h (X_v W_v,h + b_v,h) = (P_h X_v) W_v,h + b_v,h.
 * - "queries" (image -> token attention; the image is the queries): scores_h = (X_q W_q,h + b_q,h) k_h^T
 *   = X_q (W_q,h k_h^T) + b_q,h k_h^T (only with `scores`), and out_proj(concat_h P_h v_h) =
 *   sum_h P_h (v_h W_o,h) + b_o.
 *
 * Each projection of the [4096, 256] image tensors (4096 x 256 x 128 multiply-adds) becomes a product
 * with a per-prompt matrix of heads x tokens columns (8 x ~7), a bit under half the work.
 */
export function rewriteAttention(
  model: ParsedModel,
  prefix: string,
  image: "keys" | "queries",
  opts: { scores: boolean } = { scores: true },
): ParsedModel | undefined {
  const a = matchAttention(model, prefix);
  if (!a) return undefined;
  const H = a.heads;
  const D = a.headDim;
  const t = (s: string) => `${prefix}/reassoc/${s}`;
  const nodes: ProtoField[] = [];
  const inits: ProtoField[] = [];
  const rewire = new Map<string, string>();
  if (image === "keys") {
    if (opts.scores) {
      // A = q_h W_k,h^T [B,H,Nq,dim]; c = q_h b_k,h [B,H,Nq,1]
      inits.push(
        floatTensorInitializer(t("wk_t"), [H, D, a.dim], perHead(a.wk, a.dim, H, D, true)),
        floatTensorInitializer(t("bk"), [H, D, 1], a.bk),
        int64Initializer(t("shape_rows"), [0, -1, a.dim]),
        int64Initializer(t("shape_heads"), [0, H, -1, IMAGE_TOKENS]),
      );
      nodes.push(
        opNode("MatMul", t("q_wk"), [a.qHeads, t("wk_t")], [t("q_wk_out")]),
        opNode("MatMul", t("q_bk"), [a.qHeads, t("bk")], [t("q_bk_out")]),
        opNode("Reshape", t("q_wk_rows"), [t("q_wk_out"), t("shape_rows")], [t("q_wk_rows_out")]),
        opNode("Transpose", t("k_in_t"), [a.kIn], [t("k_in_t_out")], [{ name: "perm", ints: [0, 2, 1] }]),
        opNode("MatMul", t("scores_rows"), [t("q_wk_rows_out"), t("k_in_t_out")], [t("scores_rows_out")]),
        opNode(
          "Reshape",
          t("scores_heads"),
          [t("scores_rows_out"), t("shape_heads")],
          [t("scores_heads_out")],
        ),
        opNode("Add", t("scores"), [t("scores_heads_out"), t("q_bk_out")], [t("scores_out")]),
      );
      rewire.set(a.scores, t("scores_out"));
    }
    // (P_h X_v) W_v,h + b_v,h
    inits.push(
      int64Initializer(t("shape_p_rows"), [0, -1, IMAGE_TOKENS]),
      int64Initializer(t("shape_pv_heads"), [0, H, -1, a.dim]),
      floatTensorInitializer(t("wv"), [H, a.dim, D], perHead(a.wv, a.dim, H, D, false)),
      floatTensorInitializer(t("bv"), [H, 1, D], a.bv),
    );
    nodes.push(
      opNode("Reshape", t("p_rows"), [a.probs, t("shape_p_rows")], [t("p_rows_out")]),
      opNode("MatMul", t("p_x"), [t("p_rows_out"), a.vIn], [t("p_x_out")]),
      opNode("Reshape", t("p_x_heads"), [t("p_x_out"), t("shape_pv_heads")], [t("p_x_heads_out")]),
      opNode("MatMul", t("p_x_wv"), [t("p_x_heads_out"), t("wv")], [t("p_x_wv_out")]),
      opNode("Add", t("attended"), [t("p_x_wv_out"), t("bv")], [t("attended_out")]),
    );
    rewire.set(a.attended, t("attended_out"));
  } else {
    if (opts.scores) {
      // G = W_q,h k_h^T [B,H,dim,Nk] -> [B,dim,H*Nk]; scores = X_q G (+ b_q,h k_h^T) -> [B,H,Nq,Nk]
      inits.push(
        floatTensorInitializer(t("wq"), [H, a.dim, D], perHead(a.wq, a.dim, H, D, false)),
        floatTensorInitializer(t("bq"), [H, 1, D], a.bq),
        int64Initializer(t("shape_g"), [0, a.dim, -1]),
        int64Initializer(t("shape_s"), [0, IMAGE_TOKENS, H, -1]),
      );
      nodes.push(
        opNode("MatMul", t("wq_k"), [t("wq"), a.kHeadsT], [t("wq_k_out")]),
        opNode("MatMul", t("bq_k"), [t("bq"), a.kHeadsT], [t("bq_k_out")]),
        opNode(
          "Transpose",
          t("g_t"),
          [t("wq_k_out")],
          [t("g_t_out")],
          [{ name: "perm", ints: [0, 2, 1, 3] }],
        ),
        opNode("Reshape", t("g"), [t("g_t_out"), t("shape_g")], [t("g_out")]),
        opNode("MatMul", t("x_g"), [a.qIn, t("g_out")], [t("x_g_out")]),
        opNode("Reshape", t("x_g_heads"), [t("x_g_out"), t("shape_s")], [t("x_g_heads_out")]),
        opNode(
          "Transpose",
          t("s_t"),
          [t("x_g_heads_out")],
          [t("s_t_out")],
          [{ name: "perm", ints: [0, 2, 1, 3] }],
        ),
        opNode("Add", t("scores"), [t("s_t_out"), t("bq_k_out")], [t("scores_out")]),
      );
      rewire.set(a.scores, t("scores_out"));
    }
    // sum_h P_h (v_h W_o,h) + b_o
    inits.push(
      floatTensorInitializer(t("wo"), [H, D, a.outDim], a.wo),
      int64Initializer(t("shape_m"), [0, -1, a.outDim]),
      int64Initializer(t("shape_p"), [0, IMAGE_TOKENS, -1]),
    );
    nodes.push(
      opNode("MatMul", t("v_wo"), [a.vHeads, t("wo")], [t("v_wo_out")]),
      opNode("Reshape", t("m"), [t("v_wo_out"), t("shape_m")], [t("m_out")]),
      opNode("Transpose", t("p_t"), [a.probs], [t("p_t_out")], [{ name: "perm", ints: [0, 2, 1, 3] }]),
      opNode("Reshape", t("p"), [t("p_t_out"), t("shape_p")], [t("p_out")]),
      opNode("MatMul", t("p_m"), [t("p_out"), t("m_out")], [t("p_m_out")]),
      opNode("Add", t("output"), [t("p_m_out"), a.bo], [t("output_out")]),
    );
    rewire.set(a.output, t("output_out"));
  }
  return withAdditions(model, { nodes, initializers: inits, rewire });
}

/** Image tokens the transformer attends over (64 x 64). */
const IMAGE_TOKENS = SIDE_IN * SIDE_IN;

/**
 * `rewriteAttention` on every cross-attention module of the two-way transformer where it saves work:
 * image-to-token modules always get the output reassociation, and the scores one where the image
 * queries depend on the prompt; token-to-image modules where their image keys depend on the prompt (the
 * first layer's are precomputed once per image by `prepare`, see `deriveBrowserDecoder`).
 * `promptInputs` are the graph inputs that vary per prompt.
 */
export function rewriteCrossAttention(model: ParsedModel, promptInputs: readonly string[]): ParsedModel {
  const dynamic = new Set(promptInputs);
  // A Tile repeating image-side tensors over the prompt batch stays image-side (the browser decodes one
  // prompt at a time; `deriveBrowserDecoder` bypasses those Tiles).
  const reads = (n: OnnxNode) => (n.opType === "Tile" ? n.inputs.slice(0, 1) : n.inputs);
  for (const n of topological(model.nodes))
    if (reads(n).some((i) => dynamic.has(i))) for (const o of n.outputs) dynamic.add(o);
  const prefixes = model.nodes
    .filter((n) => n.opType === "MatMul" && n.name.endsWith("/q_proj/MatMul"))
    .map((n) => n.name.slice(0, -"/q_proj/MatMul".length))
    .filter((p) => /(image_to_token|token_to_image)$/.test(p));
  let out = model;
  for (const prefix of prefixes) {
    const a = matchAttention(out, prefix);
    if (!a) continue;
    const next = prefix.endsWith("image_to_token")
      ? rewriteAttention(out, prefix, "queries", { scores: dynamic.has(a.qIn) })
      : dynamic.has(a.kIn) && dynamic.has(a.vIn)
        ? rewriteAttention(out, prefix, "keys")
        : undefined;
    if (next) out = next;
  }
  return out;
}

function topological(nodes: readonly OnnxNode[]): OnnxNode[] {
  const produced = producerMap(nodes);
  const order: OnnxNode[] = [];
  const seen = new Set<OnnxNode>();
  const visit = (n: OnnxNode) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const i of n.inputs) {
      const p = i ? produced.get(i) : undefined;
      if (p) visit(p);
    }
    order.push(n);
  };
  for (const n of nodes) visit(n);
  return order;
}
