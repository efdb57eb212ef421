/**
 * The dense prompt as a correction of `prepare`'s per-image tensors, for the `refine` model (see
 * `deriveBrowserDecoder`). Exact math, only the float summation order changes.
 *
 * SAM adds the dense prompt embedding to the image embedding before the transformer:
 *   src = image + dense,  dense = has_mask_input * Conv1x1(h) + (1 - has_mask_input) * no_mask_embed
 * where h [B, 16, 64, 64] is the mask path (mask_downscaling) before its last, 1x1 convolution
 * (Wc [256, 16], bc [256]). `prepare` computes the first layer's image-side tensors for the dense value
 * of a prompt without a mask, `no_mask_embed`: the flattened src itself (`keys`) and projections of it,
 * P = (keys [+ positional encoding]) W + b. For any dense prompt, with
 *   delta = dense - no_mask_embed = has * (h Wc^T + bc - no_mask_embed)   (per pixel, channels-last)
 * src = keys + delta and P' = P + delta W = P + [has * h, has] [Wc^T W; (bc - no_mask_embed) W]:
 * the 1x1 convolution folds into each projection (16 + 1 input rows instead of 256), so the per-prompt
 * image-side work is 4096 x 17 x 128 multiply-adds per projection instead of an image-sized product.
 */
import { type AttentionModule, consumers, matchAttention, scalar } from "./graph-rewrites";
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

const PREFIX = "/dense_delta";

export interface DenseDeltaModel {
  model: ParsedModel;
  /** Prepared tensor -> the tensor that replaces it for the prompt's dense embedding. */
  replaced: Map<string, string>;
}

interface DensePath {
  /** The mask path before the last convolution, [B, Cin, H, W]. */
  hidden: string;
  cin: number;
  cout: number;
  /** [cout, cin] */
  wc: Float32Array;
  /** bc - no_mask_embed, [cout] */
  offset: Float64Array;
  /** The flattened, channels-last src [B, HW, cout] the transformer reads. */
  keys: string;
}

/** Finds `src = image + (has * Conv1x1(h) + (1 - has) * no_mask)`, flattened to [B, HW, C]. */
function matchDensePath(model: ParsedModel, hasMaskInput: string): DensePath | undefined {
  const produced = producerMap(model.nodes);
  const uses = consumers(model.nodes);
  const other = (n: OnnxNode, known: string) => (n.inputs[0] === known ? n.inputs[1] : n.inputs[0]);
  const hasUses = uses.get(hasMaskInput) ?? [];
  // has * Conv(h)
  const scaled = hasUses.find(
    (n) => n.opType === "Mul" && produced.get(other(n, hasMaskInput) ?? "")?.opType === "Conv",
  );
  // (1 - has) * no_mask
  const oneMinus = hasUses.find(
    (n) => n.opType === "Sub" && n.inputs[1] === hasMaskInput && scalar(model, n.inputs[0]) === 1,
  );
  if (!scaled || !oneMinus) return undefined;
  const conv = produced.get(other(scaled, hasMaskInput)!)!;
  const noMaskMul = (uses.get(oneMinus.outputs[0]!) ?? []).find((n) => n.opType === "Mul");
  const noMask = noMaskMul && constantFloats(model, other(noMaskMul, oneMinus.outputs[0]!)!);
  const dense = (uses.get(scaled.outputs[0]!) ?? []).find(
    (n) => n.opType === "Add" && noMaskMul && n.inputs.includes(noMaskMul.outputs[0]!),
  );
  if (!noMask || !dense) return undefined;
  const w = constantFloats(model, conv.inputs[1] ?? "");
  const b = constantFloats(model, conv.inputs[2] ?? "");
  if (!w || !b || w.dims.length !== 4 || w.dims[2] !== 1 || w.dims[3] !== 1) return undefined;
  if ((intsAttribute(conv, "strides") ?? [1, 1]).some((s) => s !== 1)) return undefined;
  if ((intsAttribute(conv, "pads") ?? [0, 0, 0, 0]).some((p) => p !== 0)) return undefined;
  if ((intAttribute(conv, "group") ?? 1) !== 1) return undefined;
  const [cout, cin] = w.dims as [number, number];
  if (b.data.length !== cout || noMask.data.length !== cout) return undefined;
  // src = image + dense -> Reshape [B, C, HW] -> Transpose (0, 2, 1)
  const addUses = uses.get(dense.outputs[0]!) ?? [];
  const src = addUses.length === 1 && addUses[0]!.opType === "Add" ? addUses[0] : undefined;
  const flat = src && (uses.get(src.outputs[0]!) ?? []).find((n) => n.opType === "Reshape");
  const toRows = flat && (uses.get(flat.outputs[0]!) ?? []).find((n) => n.opType === "Transpose");
  if (!toRows || intsAttribute(toRows, "perm")?.join() !== "0,2,1") return undefined;
  const offset = new Float64Array(cout);
  for (let o = 0; o < cout; o++) offset[o] = b.data[o]! - noMask.data[o]!;
  return { hidden: conv.inputs[0]!, cin, cout, wc: w.data, offset, keys: toRows.outputs[0]! };
}

/** [cin + 1, cols]: rows c < cin = sum_o Wc[o, c] W[o, :], last row = sum_o offset[o] W[o, :] (W = I: Wc^T). */
function foldedWeight(d: DensePath, w: Float32Array | undefined, cols: number): Float64Array {
  const out = new Float64Array((d.cin + 1) * cols);
  for (let o = 0; o < d.cout; o++) {
    for (let c = 0; c <= d.cin; c++) {
      const a = c < d.cin ? d.wc[o * d.cin + c]! : d.offset[o]!;
      if (!w) out[c * cols + o] = a;
      else for (let j = 0; j < cols; j++) out[c * cols + j] = out[c * cols + j]! + a * w[o * cols + j]!;
    }
  }
  return out;
}

/** [rows, heads * hd] -> [heads, rows, hd] (`transposed`: [heads, hd, rows]), as float32. */
function perHead(w: Float64Array, rows: number, heads: number, hd: number, transposed: boolean) {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++)
    for (let h = 0; h < heads; h++)
      for (let d = 0; d < hd; d++)
        out[transposed ? (h * hd + d) * rows + r : (h * rows + r) * hd + d] = w[r * heads * hd + h * hd + d]!;
  return out;
}

/**
 * Adds the dense-prompt corrections of the `prepared` tensors (see the module comment) and rewires every
 * node that reads one of them to its corrected value. Each prepared tensor must be the flattened src or
 * a first-layer cross-attention's per-head image-side projection of it (token-to-image keys, values;
 * image-to-token queries), the positional encoding added or not; otherwise undefined (nothing changed).
 */
export function rewriteDenseDelta(
  model: ParsedModel,
  prepared: readonly string[],
  inputs: { hasMaskInput: string },
): DenseDeltaModel | undefined {
  const d = matchDensePath(model, inputs.hasMaskInput);
  if (!d || !prepared.includes(d.keys)) return undefined;
  const produced = producerMap(model.nodes);
  // the projection input is keys, or keys + (something the dense prompt does not change)
  const readsKeys = (t: string) => {
    if (t === d.keys) return true;
    const add = produced.get(t);
    return add?.opType === "Add" && add.inputs.filter((i) => i === d.keys).length === 1;
  };
  const modules: AttentionModule[] = model.nodes
    .filter((n) => n.opType === "MatMul" && n.name.endsWith("/q_proj/MatMul"))
    .map((n) => matchAttention(model, n.name.slice(0, -"/q_proj/MatMul".length)))
    .filter((a): a is AttentionModule => !!a);
  const t = (s: string) => `${PREFIX}/${s}`;
  const cin1 = d.cin + 1;
  const nodes: ProtoField[] = [
    // [has * h, has]: [B, cin + 1, H, W]
    opNode("Concat", t("h_aug"), [d.hidden, t("ones")], [t("h_aug_out")], [{ name: "axis", int: 1 }]),
    opNode("Mul", t("h_scaled"), [t("h_aug_out"), inputs.hasMaskInput], [t("h_scaled_out")]),
    opNode("Reshape", t("h_cf"), [t("h_scaled_out"), t("shape_cf")], [t("h_cf_out")]),
    opNode("Transpose", t("h_rows"), [t("h_cf_out")], [t("h_rows_out")], [{ name: "perm", ints: [0, 2, 1] }]),
    opNode("Reshape", t("h_cf4"), [t("h_cf_out"), t("shape_cf4")], [t("h_cf4_out")]),
    opNode("Reshape", t("h_rows4"), [t("h_rows_out"), t("shape_rows4")], [t("h_rows4_out")]),
  ];
  const inits: ProtoField[] = [
    int64Initializer(t("shape_cf"), [0, cin1, -1]),
    int64Initializer(t("shape_cf4"), [0, 1, cin1, -1]),
    int64Initializer(t("shape_rows4"), [0, 1, -1, cin1]),
  ];
  const replaced = new Map<string, string>();
  const correct = (target: string, name: string, matmul: [string, string], weight: ProtoField) => {
    const out = `${target}${PREFIX}`;
    nodes.push(
      opNode("MatMul", t(`${name}/delta`), matmul, [t(`${name}/delta_out`)]),
      opNode("Add", t(`${name}/corrected`), [target, t(`${name}/delta_out`)], [out]),
    );
    inits.push(weight);
    replaced.set(target, out);
  };
  for (const [i, target] of prepared.entries()) {
    const name = `p${i}`;
    if (target === d.keys) {
      const w = Float32Array.from(foldedWeight(d, undefined, d.cout));
      correct(
        target,
        name,
        [t("h_rows_out"), t(`${name}/w`)],
        floatTensorInitializer(t(`${name}/w`), [cin1, d.cout], w),
      );
      continue;
    }
    // keys W for a fixed W [C, cols], maybe reshaped: [B, HW, cin + 1] x [cin + 1, cols] (reshaped alike)
    const reshape = produced.get(target)?.opType === "Reshape" ? produced.get(target) : undefined;
    const product = produced.get(reshape ? reshape.inputs[0]! : target);
    const fixed =
      product?.opType === "MatMul" && product.inputs[0] === d.keys
        ? constantFloats(model, product.inputs[1]!)
        : undefined;
    if (fixed && fixed.dims.length === 2 && fixed.dims[0] === d.cout) {
      const cols = fixed.dims[1]!;
      const wName = t(`${name}/w`);
      inits.push(
        floatTensorInitializer(wName, [cin1, cols], Float32Array.from(foldedWeight(d, fixed.data, cols))),
      );
      const delta = reshape ? t(`${name}/delta_rows_out`) : t(`${name}/delta_out`);
      nodes.push(
        opNode("MatMul", t(`${name}/delta`), [t("h_rows_out"), wName], [t(`${name}/delta_out`)]),
        ...(reshape
          ? [
              opNode(
                "Reshape",
                t(`${name}/delta_rows`),
                [t(`${name}/delta_out`), reshape.inputs[1]!],
                [delta],
              ),
            ]
          : []),
        opNode("Add", t(`${name}/corrected`), [target, delta], [`${target}${PREFIX}`]),
      );
      replaced.set(target, `${target}${PREFIX}`);
      continue;
    }
    const a = modules.find(
      (m) =>
        (m.kHeadsT === target && readsKeys(m.kIn)) ||
        (m.vHeads === target && readsKeys(m.vIn)) ||
        (m.qHeads === target && readsKeys(m.qIn)),
    );
    if (!a) return undefined;
    const [w, transposed] =
      a.kHeadsT === target ? [a.wk, true] : a.vHeads === target ? [a.wv, false] : [a.wq, false];
    const folded = perHead(foldedWeight(d, w, a.internal), cin1, a.heads, a.headDim, transposed);
    const wName = t(`${name}/w`);
    if (transposed) {
      // [H, hd, cin + 1] x [B, 1, cin + 1, HW] -> [B, H, hd, HW], the keys' layout
      correct(
        target,
        name,
        [wName, t("h_cf4_out")],
        floatTensorInitializer(wName, [a.heads, a.headDim, cin1], folded),
      );
    } else {
      // [B, 1, HW, cin + 1] x [H, cin + 1, hd] -> [B, H, HW, hd]
      correct(
        target,
        name,
        [t("h_rows4_out"), wName],
        floatTensorInitializer(wName, [a.heads, cin1, a.headDim], folded),
      );
    }
  }
  inits.push(floatTensorInitializer(t("ones"), [1, 1, SIDE, SIDE], new Float32Array(SIDE * SIDE).fill(1)));
  return { model: withAdditions(model, { nodes, initializers: inits, rewire: replaced }), replaced };
}

/** The image-embedding side length (64 x 64 tokens). */
const SIDE = 64;
