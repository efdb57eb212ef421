/**
 * LayerNormalization over the image tokens ([B, 4096, 256]) as elementary ops, for onnxruntime-web:
 * its WASM LayerNormalization kernel is about twice as slow as ReduceMean / Sub / Mul / ReduceMean / Add /
 * Sqrt / Div / Mul / Add on that shape (measured, ORT-web 1.30, 2 threads). Same formula as the op
 * (mean, then the mean of the squared centred values, divided by sqrt(var + epsilon), scaled and
 * shifted), so only float rounding differs. The small LayerNorms over the tokens are left alone: there
 * the op count matters more than the kernel.
 */
import { matchAttention } from "./graph-rewrites";
import {
  AttributeProtoField,
  constantFloats,
  floatInitializer,
  intAttribute,
  NodeProtoField,
  type OnnxNode,
  opNode,
  type ParsedModel,
  withAdditions,
} from "./onnx-graph";
import { firstString, type ProtoField, parseMessage } from "./protobuf";

const PREFIX = "/token_norm";

/** A LayerNormalization node's float `epsilon` (default 1e-5). */
export function epsilonOf(n: OnnxNode): number {
  for (const f of n.fields) {
    if (f.no !== NodeProtoField.attribute) continue;
    const attr = parseMessage(f.payload);
    if (firstString(attr, AttributeProtoField.name) !== "epsilon") continue;
    const v = attr.find((a) => a.no === ATTRIBUTE_FLOAT && a.payload.length === 4);
    if (v) return new DataView(v.payload.buffer, v.payload.byteOffset, 4).getFloat32(0, true);
  }
  return 1e-5;
}

/** AttributeProto.f */
const ATTRIBUTE_FLOAT = 2;

/**
 * Rewrites every LayerNormalization over the last axis whose output is the image side (values) of a
 * token-to-image attention, i.e. the normalised image tokens of the two-way transformer.
 */
export function rewriteImageTokenNorms(model: ParsedModel): ParsedModel {
  const imageValues = new Set(
    model.nodes
      .filter((n) => n.opType === "MatMul" && n.name.endsWith("token_to_image/q_proj/MatMul"))
      .map((n) => matchAttention(model, n.name.slice(0, -"/q_proj/MatMul".length))?.vIn)
      .filter((v): v is string => !!v),
  );
  const nodes: ProtoField[] = [];
  const inits: ProtoField[] = [];
  const rewire = new Map<string, string>();
  for (const [i, n] of model.nodes.entries()) {
    if (n.opType !== "LayerNormalization" || !imageValues.has(n.outputs[0]!) || n.outputs.length !== 1)
      continue;
    const [x, scale, bias] = n.inputs;
    const epsilon = epsilonOf(n);
    if (!x || !scale || (intAttribute(n, "axis") ?? -1) !== -1) continue;
    const t = (s: string) => `${PREFIX}${i}/${s}`;
    const axes = [{ name: "axes", ints: [-1] }];
    nodes.push(
      opNode("ReduceMean", t("mean"), [x], [t("mean_out")], axes),
      opNode("Sub", t("centred"), [x, t("mean_out")], [t("centred_out")]),
      opNode("Mul", t("squared"), [t("centred_out"), t("centred_out")], [t("squared_out")]),
      opNode("ReduceMean", t("var"), [t("squared_out")], [t("var_out")], axes),
      opNode("Add", t("var_eps"), [t("var_out"), t("epsilon")], [t("var_eps_out")]),
      opNode("Sqrt", t("std"), [t("var_eps_out")], [t("std_out")]),
      opNode("Div", t("normalised"), [t("centred_out"), t("std_out")], [t("normalised_out")]),
      opNode("Mul", t("scaled"), [t("normalised_out"), scale], [bias ? t("scaled_out") : t("out")]),
      ...(bias ? [opNode("Add", t("shifted"), [t("scaled_out"), bias], [t("out")])] : []),
    );
    inits.push(floatInitializer(t("epsilon"), [], [epsilon]));
    rewire.set(n.outputs[0]!, t("out"));
  }
  if (rewire.size === 0) return model;
  return withAdditions(model, { nodes, initializers: inits, rewire });
}

/** A layer norm over the last axis written out by `rewriteImageTokenNorms`, read back from its output. */
export interface TokenNorm {
  /** The normalised input [B, HW, C]. */
  input: string;
  /** Its per-row mean and sqrt(variance + epsilon), [B, HW, 1]. */
  mean: string;
  std: string;
  scale: Float32Array;
  bias: Float32Array;
}

/** The `rewriteImageTokenNorms` chain ending at `output`, or undefined. */
export function matchTokenNorm(model: ParsedModel, output: string): TokenNorm | undefined {
  const produced = new Map(model.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const shifted = produced.get(output);
  if (shifted?.opType !== "Add" || !shifted.name.startsWith(PREFIX)) return undefined;
  const scaled = produced.get(shifted.inputs[0]!);
  const normalised = scaled?.opType === "Mul" ? produced.get(scaled.inputs[0]!) : undefined;
  const centred = normalised?.opType === "Div" ? produced.get(normalised.inputs[0]!) : undefined;
  if (centred?.opType !== "Sub" || !scaled || !normalised) return undefined;
  const scale = constantFloats(model, scaled.inputs[1]!);
  const bias = constantFloats(model, shifted.inputs[1]!);
  if (!scale || !bias || scale.data.length !== bias.data.length) return undefined;
  return {
    input: centred.inputs[0]!,
    mean: centred.inputs[1]!,
    std: normalised.inputs[1]!,
    scale: scale.data,
    bias: bias.data,
  };
}
