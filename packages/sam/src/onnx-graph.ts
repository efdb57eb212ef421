/**
 * Just enough of ONNX's protobuf schema (onnx.proto) to read a graph's topology and add outputs/nodes,
 * on top of the lossless wire-format layer in `protobuf.ts`. Everything not named here is carried as bytes.
 */
import {
  encodeVarint,
  firstString,
  lenField,
  messageField,
  ProtobufError,
  type ProtoField,
  parseMessage,
  serializeMessage,
  stringField,
  strings,
  varintField,
  varintValue,
  WireType,
} from "./protobuf";

/** Field numbers from onnx.proto. */
export const ModelProtoField = { irVersion: 1, graph: 7, opsetImport: 8 } as const;
export const GraphProtoField = {
  node: 1,
  name: 2,
  initializer: 5,
  input: 11,
  output: 12,
  valueInfo: 13,
} as const;
export const NodeProtoField = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const ValueInfoProtoField = { name: 1, type: 2 } as const;
export const TypeProtoField = { tensorType: 1 } as const;
export const TensorTypeField = { elemType: 1, shape: 2 } as const;
export const TensorShapeField = { dim: 1 } as const;
export const DimensionField = { dimValue: 1, dimParam: 2 } as const;
export const TensorProtoField = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
export const AttributeProtoField = { name: 1, i: 3, t: 5 } as const;
/** TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1;
/** TensorProto.DataType.INT64 */
export const ONNX_INT64 = 7;

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  /** The node's fields as stored; attributes and domain are only ever copied from here. */
  fields: ProtoField[];
}

/** A dimension: a number, a symbolic name, or undefined when the file leaves it unknown. */
export type OnnxDim = number | string | undefined;

export interface OnnxValueInfo {
  name: string;
  elemType: number | undefined;
  /** undefined when the file gives no shape (unknown rank). */
  shape: OnnxDim[] | undefined;
}

export interface ParsedModel {
  modelFields: ProtoField[];
  graphFields: ProtoField[];
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializerNames: Set<string>;
}

export function parseNode(field: ProtoField): OnnxNode {
  const fields = parseMessage(field.payload);
  return {
    name: firstString(fields, NodeProtoField.name) ?? "",
    opType: firstString(fields, NodeProtoField.opType) ?? "",
    inputs: strings(fields, NodeProtoField.input),
    outputs: strings(fields, NodeProtoField.output),
    fields,
  };
}

export function parseValueInfo(field: ProtoField): OnnxValueInfo {
  const vi = parseMessage(field.payload);
  const name = firstString(vi, ValueInfoProtoField.name) ?? "";
  const type = vi.find((f) => f.no === ValueInfoProtoField.type);
  if (!type) return { name, elemType: undefined, shape: undefined };
  const tensor = parseMessage(type.payload).find((f) => f.no === TypeProtoField.tensorType);
  if (!tensor) return { name, elemType: undefined, shape: undefined };
  const tt = parseMessage(tensor.payload);
  const elem = tt.find((f) => f.no === TensorTypeField.elemType);
  const shapeField = tt.find((f) => f.no === TensorTypeField.shape);
  const shape = shapeField
    ? parseMessage(shapeField.payload)
        .filter((f) => f.no === TensorShapeField.dim)
        .map((d): OnnxDim => {
          const dim = parseMessage(d.payload);
          const v = dim.find((f) => f.no === DimensionField.dimValue);
          if (v) return varintValue(v);
          return firstString(dim, DimensionField.dimParam);
        })
    : undefined;
  return { name, elemType: elem ? varintValue(elem) : undefined, shape };
}

export function parseModel(model: Uint8Array): ParsedModel {
  const modelFields = parseMessage(model);
  const graphs = modelFields.filter((f) => f.no === ModelProtoField.graph);
  if (graphs.length !== 1)
    throw new ProtobufError(`expected one graph in the ONNX model, found ${graphs.length}`);
  const graphFields = parseMessage(graphs[0]!.payload);
  const nodes: OnnxNode[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializerNames = new Set<string>();
  for (const f of graphFields) {
    if (f.no === GraphProtoField.node) nodes.push(parseNode(f));
    else if (f.no === GraphProtoField.input) inputs.push(parseValueInfo(f));
    else if (f.no === GraphProtoField.output) outputs.push(parseValueInfo(f));
    else if (f.no === GraphProtoField.initializer) {
      const name = firstString(parseMessage(f.payload), TensorProtoField.name);
      if (name) initializerNames.add(name);
    }
  }
  return { modelFields, graphFields, nodes, inputs, outputs, initializerNames };
}

/** Re-encodes a node whose inputs/outputs/name changed, copying every other field (attributes…) as is. */
export function buildNode(base: OnnxNode, changes: { name?: string; inputs?: string[]; outputs?: string[] }) {
  const rebuilt: ProtoField[] = [];
  let wroteInputs = false;
  let wroteOutputs = false;
  for (const f of base.fields) {
    if (f.no === NodeProtoField.input && changes.inputs) {
      if (!wroteInputs) for (const s of changes.inputs) rebuilt.push(stringField(NodeProtoField.input, s));
      wroteInputs = true;
    } else if (f.no === NodeProtoField.output && changes.outputs) {
      if (!wroteOutputs) for (const s of changes.outputs) rebuilt.push(stringField(NodeProtoField.output, s));
      wroteOutputs = true;
    } else if (f.no === NodeProtoField.name && changes.name !== undefined) {
      rebuilt.push(stringField(NodeProtoField.name, changes.name));
    } else {
      rebuilt.push(f);
    }
  }
  return messageField(GraphProtoField.node, rebuilt);
}

/** A node with no attributes, e.g. Identity. */
export function simpleNode(opType: string, name: string, inputs: string[], outputs: string[]): ProtoField {
  return messageField(GraphProtoField.node, [
    ...inputs.map((s) => stringField(NodeProtoField.input, s)),
    ...outputs.map((s) => stringField(NodeProtoField.output, s)),
    stringField(NodeProtoField.name, name),
    stringField(NodeProtoField.opType, opType),
  ]);
}

function dimField(dim: OnnxDim): ProtoField {
  if (typeof dim === "number")
    return messageField(TensorShapeField.dim, [varintField(DimensionField.dimValue, dim)]);
  if (typeof dim === "string")
    return messageField(TensorShapeField.dim, [stringField(DimensionField.dimParam, dim)]);
  return lenField(TensorShapeField.dim, new Uint8Array(0));
}

/** A ValueInfoProto for a graph input/output (field number chosen by the caller: 11 input, 12 output); shape undefined: unknown. */
export function valueInfoField(
  no: number,
  info: { name: string; elemType: number; shape?: OnnxDim[] | undefined },
): ProtoField {
  const tensorType = messageField(TypeProtoField.tensorType, [
    varintField(TensorTypeField.elemType, info.elemType),
    // Without a shape the rank is unknown too (ONNX: an absent shape means "any shape").
    ...(info.shape ? [messageField(TensorTypeField.shape, info.shape.map(dimField))] : []),
  ]);
  return messageField(no, [
    stringField(ValueInfoProtoField.name, info.name),
    messageField(ValueInfoProtoField.type, [tensorType]),
  ]);
}

/** Assembles the model again with the graph's fields replaced; all other model fields are copied as is. */
export function serializeModel(
  modelFields: readonly ProtoField[],
  graphFields: readonly ProtoField[],
): Uint8Array {
  const graph = messageField(ModelProtoField.graph, graphFields);
  return serializeMessage(modelFields.map((f) => (f.no === ModelProtoField.graph ? graph : f)));
}

/** Where each tensor is produced. */
export function producerMap(nodes: readonly OnnxNode[]): Map<string, OnnxNode> {
  const m = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** A graph's name from a ValueInfoProto / TensorProto field. */
function fieldName(field: ProtoField, nameField: number): string {
  return firstString(parseMessage(field.payload), nameField) ?? "";
}

export class GraphExtractionError extends Error {
  override name = "GraphExtractionError";
}

export interface ExtractSpec {
  /** The new graph's inputs (ValueInfoProto fields, see `valueInfoField`); they cut the graph: whatever produced them is not kept. */
  inputs: readonly ProtoField[];
  /** The new graph's outputs (ValueInfoProto fields). */
  outputs: readonly ProtoField[];
  /** Nodes to add (e.g. Identity renames, constants replacing an input), as `simpleNode`/`buildNode` fields. */
  extraNodes?: readonly ProtoField[];
  /** Initializers (TensorProto fields, see `floatInitializer`/`int64Initializer`) to add. */
  extraInitializers?: readonly ProtoField[];
  /** Read tensor `to` wherever a kept node reads `from` (rewiring, e.g. bypassing a node). */
  substitute?: ReadonlyMap<string, string>;
}

/**
 * Builds a new graph (its fields, for `serializeModel`) that computes `spec.outputs` from `spec.inputs`:
 * only the nodes those outputs need are kept, in a topological order, with only the initializers and
 * value_info entries they use. Dead nodes are removed from the file, not left for the runtime to prune.
 * Every tensor a kept node reads must be a new input, an initializer or produced by a kept node;
 * otherwise GraphExtractionError. Other graph fields (name, doc string…) are copied as they are.
 */
export function extractGraph(model: ParsedModel, spec: ExtractSpec): ProtoField[] {
  const substitute = spec.substitute ?? new Map<string, string>();
  const extra = (spec.extraNodes ?? []).map(parseNode);
  const extraFields = new Map(extra.map((n, i) => [n, spec.extraNodes![i]!]));
  const all = [...model.nodes, ...extra];
  const produced = producerMap(all);
  const inputNames = new Set(spec.inputs.map((f) => fieldName(f, ValueInfoProtoField.name)));
  const extraInit = new Map(
    (spec.extraInitializers ?? []).map((f) => [fieldName(f, TensorProtoField.name), f] as const),
  );
  const isInitializer = (t: string) => model.initializerNames.has(t) || extraInit.has(t);
  const read = (n: OnnxNode) => n.inputs.map((i) => substitute.get(i) ?? i);

  const order: OnnxNode[] = [];
  const state = new Map<OnnxNode, "visiting" | "done">();
  const usedTensors = new Set<string>();
  const visitTensor = (t: string, by: string) => {
    if (!t) return;
    usedTensors.add(t);
    if (inputNames.has(t)) return;
    const n = produced.get(t);
    if (n) visitNode(n);
    else if (!isInitializer(t))
      throw new GraphExtractionError(
        `tensor "${t}" (read by ${by}) is neither an input, an initializer nor computed`,
      );
  };
  const visitNode = (n: OnnxNode) => {
    const s = state.get(n);
    if (s === "done") return;
    if (s === "visiting") throw new GraphExtractionError(`cycle through node "${n.name}"`);
    state.set(n, "visiting");
    for (const i of read(n)) visitTensor(i, `node "${n.name}"`);
    state.set(n, "done");
    order.push(n);
  };
  for (const o of spec.outputs) visitTensor(fieldName(o, ValueInfoProtoField.name), "a graph output");

  const nodeFields = order.map((n) => {
    const inputs = read(n);
    const rewired = inputs.some((x, i) => x !== n.inputs[i]);
    return extraFields.get(n) && !rewired
      ? extraFields.get(n)!
      : rewired
        ? buildNode(n, { inputs })
        : messageField(GraphProtoField.node, n.fields);
  });
  const keptOutputs = new Set(order.flatMap((n) => n.outputs));
  const out: ProtoField[] = [];
  let placedNodes = false;
  let placedInputs = false;
  let placedOutputs = false;
  for (const f of model.graphFields) {
    if (f.no === GraphProtoField.node) {
      if (!placedNodes) out.push(...nodeFields);
      placedNodes = true;
    } else if (f.no === GraphProtoField.initializer) {
      if (usedTensors.has(fieldName(f, TensorProtoField.name))) out.push(f);
    } else if (f.no === GraphProtoField.input) {
      if (!placedInputs) out.push(...spec.inputs, ...extraInit.values());
      placedInputs = true;
    } else if (f.no === GraphProtoField.output) {
      if (!placedOutputs) out.push(...spec.outputs);
      placedOutputs = true;
    } else if (f.no === GraphProtoField.valueInfo) {
      if (keptOutputs.has(fieldName(f, ValueInfoProtoField.name))) out.push(f);
    } else out.push(f);
  }
  if (!placedNodes) out.push(...nodeFields);
  if (!placedInputs) out.push(...spec.inputs, ...extraInit.values());
  if (!placedOutputs) out.push(...spec.outputs);
  return out;
}

/** An initializer (TensorProto) with little-endian raw data, for `ExtractSpec.extraInitializers`. */
export function tensorInitializer(
  name: string,
  dataType: number,
  dims: readonly number[],
  rawData: Uint8Array,
): ProtoField {
  return messageField(GraphProtoField.initializer, [
    ...dims.map((d) => varintField(TensorProtoField.dims, d)),
    varintField(TensorProtoField.dataType, dataType),
    stringField(TensorProtoField.name, name),
    lenField(TensorProtoField.rawData, rawData),
  ]);
}

export function int64Initializer(name: string, values: readonly number[]): ProtoField {
  const raw = new Uint8Array(8 * values.length);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => {
    view.setBigInt64(8 * i, BigInt(v), true);
  });
  return tensorInitializer(name, ONNX_INT64, [values.length], raw);
}

export function floatInitializer(
  name: string,
  dims: readonly number[],
  values: readonly number[],
): ProtoField {
  const raw = new Uint8Array(4 * values.length);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true);
  });
  return tensorInitializer(name, ONNX_FLOAT, dims, raw);
}

/** A node's integer attribute (e.g. Cast's `to`, a negative `axis`), or undefined. */
export function intAttribute(node: OnnxNode, name: string): number | undefined {
  for (const f of node.fields) {
    if (f.no !== NodeProtoField.attribute) continue;
    const attr = parseMessage(f.payload);
    if (firstString(attr, AttributeProtoField.name) !== name) continue;
    const i = attr.find((x) => x.no === AttributeProtoField.i);
    // int64, two's complement (e.g. axis = -1)
    return i ? signedVarint(i) : undefined;
  }
  return undefined;
}

/** The data type of a Constant node's `value` tensor, or undefined. */
function constantElemType(node: OnnxNode): number | undefined {
  for (const f of node.fields) {
    if (f.no !== NodeProtoField.attribute) continue;
    const attr = parseMessage(f.payload);
    if (firstString(attr, AttributeProtoField.name) !== "value") continue;
    const t = attr.find((x) => x.no === AttributeProtoField.t);
    const dt = t && parseMessage(t.payload).find((x) => x.no === TensorProtoField.dataType);
    return dt ? varintValue(dt) : undefined;
  }
  return undefined;
}

/** Ops whose output has the element type of their first input. */
const SAME_TYPE_AS_FIRST_INPUT = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Concat",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Reshape",
  "Transpose",
  "Slice",
  "Identity",
  "Flatten",
  "Expand",
  "Tile",
  "MatMul",
  "Gemm",
  "Softmax",
  "Relu",
  "Sqrt",
  "Pow",
  "Erf",
  "Sin",
  "Cos",
  "LayerNormalization",
  "ReduceMean",
  "Conv",
  "ConvTranspose",
]);

/**
 * The element type of a tensor in the graph, by a small forward type rule per op (enough for SAM's
 * decoder: float math and int64 shape arithmetic). Throws GraphExtractionError where it cannot tell.
 */
export function tensorElemType(model: ParsedModel, tensor: string): number {
  const produced = producerMap(model.nodes);
  const inputs = new Map(model.inputs.map((i) => [i.name, i.elemType]));
  for (const f of model.graphFields) {
    if (f.no !== GraphProtoField.initializer) continue;
    const t = parseMessage(f.payload);
    const dt = t.find((x) => x.no === TensorProtoField.dataType);
    inputs.set(firstString(t, TensorProtoField.name) ?? "", dt ? varintValue(dt) : undefined);
  }
  const memo = new Map<string, number>();
  const typeOf = (t: string): number => {
    const known = memo.get(t);
    if (known !== undefined) return known;
    let type: number | undefined;
    const n = produced.get(t);
    if (!n) type = inputs.get(t);
    else if (n.opType === "Shape") type = ONNX_INT64;
    else if (n.opType === "Cast") type = intAttribute(n, "to");
    else if (n.opType === "Constant") type = constantElemType(n);
    else if (SAME_TYPE_AS_FIRST_INPUT.has(n.opType) && n.inputs[0]) type = typeOf(n.inputs[0]);
    if (type === undefined) throw new GraphExtractionError(`cannot tell the element type of "${t}"`);
    memo.set(t, type);
    return type;
  };
  return typeOf(tensor);
}

/** AttributeProto.AttributeType values used by `attribute`. */
const AttributeType = { float: 1, int: 2, ints: 7 } as const;
const AttributeField = { name: 1, f: 2, i: 3, ints: 8, type: 20 } as const;

/** A node attribute for `opNode`: an int, a list of ints or a float (stored as float32). */
export type OnnxAttribute =
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; float: number };

function fixed32Field(no: number, value: number): ProtoField {
  const raw = new Uint8Array(5);
  raw[0] = no * 8 + WireType.Fixed32;
  new DataView(raw.buffer).setFloat32(1, value, true);
  return { no, wireType: WireType.Fixed32, payload: raw.subarray(1), raw };
}

/** Signed int64 as a protobuf varint (two's complement for negatives, as onnx.proto stores them). */
function int64VarintField(no: number, value: number): ProtoField {
  if (value >= 0) return varintField(no, value);
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  const tag = encodeVarint(no * 8 + WireType.Varint);
  const raw = new Uint8Array(tag.length + bytes.length);
  raw.set(tag, 0);
  raw.set(bytes, tag.length);
  return { no, wireType: WireType.Varint, payload: raw.subarray(tag.length), raw };
}

function attributeField(a: OnnxAttribute): ProtoField {
  const fields: ProtoField[] = [stringField(AttributeField.name, a.name)];
  if ("int" in a) {
    fields.push(
      int64VarintField(AttributeField.i, a.int),
      varintField(AttributeField.type, AttributeType.int),
    );
  } else if ("ints" in a) {
    for (const v of a.ints) fields.push(int64VarintField(AttributeField.ints, v));
    fields.push(varintField(AttributeField.type, AttributeType.ints));
  } else {
    fields.push(
      fixed32Field(AttributeField.f, a.float),
      varintField(AttributeField.type, AttributeType.float),
    );
  }
  return messageField(NodeProtoField.attribute, fields);
}

/** A node of the default (ai.onnx) domain with the given attributes. */
export function opNode(
  opType: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly OnnxAttribute[] = [],
): ProtoField {
  return messageField(GraphProtoField.node, [
    ...inputs.map((s) => stringField(NodeProtoField.input, s)),
    ...outputs.map((s) => stringField(NodeProtoField.output, s)),
    stringField(NodeProtoField.name, name),
    stringField(NodeProtoField.opType, opType),
    ...attributes.map(attributeField),
  ]);
}

/** The ints of a node's INTS attribute (e.g. Transpose's `perm`), or undefined. */
export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  for (const f of node.fields) {
    if (f.no !== NodeProtoField.attribute) continue;
    const attr = parseMessage(f.payload);
    if (firstString(attr, AttributeProtoField.name) !== name) continue;
    return attr
      .filter((x) => x.no === AttributeField.ints)
      .flatMap((x) => (x.wireType === WireType.Len ? packedVarints(x.payload) : [signedVarint(x)]));
  }
  return undefined;
}

function signedVarint(f: ProtoField): number {
  let v = 0n;
  for (let i = f.payload.length - 1; i >= 0; i--) v = (v << 7n) | BigInt(f.payload[i]! & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

function packedVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if ((buf[i]! & 0x80) === 0) {
      out.push(
        signedVarint({ no: 0, wireType: WireType.Varint, payload: buf.subarray(start, i + 1), raw: buf }),
      );
      start = i + 1;
    }
  }
  return out;
}

/** A float32 tensor's dims and values. */
export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

function tensorProtoFloats(fields: readonly ProtoField[]): FloatTensor | undefined {
  const dt = fields.find((x) => x.no === TensorProtoField.dataType);
  if (!dt || varintValue(dt) !== ONNX_FLOAT) return undefined;
  const dims = fields.filter((x) => x.no === TensorProtoField.dims).map(varintValue);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = fields.find((x) => x.no === TensorProtoField.rawData);
  const data = new Float32Array(count);
  if (raw) {
    if (raw.payload.length !== 4 * count) return undefined;
    const view = new DataView(raw.payload.buffer, raw.payload.byteOffset, raw.payload.byteLength);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    return { dims, data };
  }
  // float_data (field 4): packed fixed32s, or unpacked fixed32 fields
  const values: number[] = [];
  for (const f of fields) {
    if (f.no !== TensorProtoFloatData) continue;
    const view = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
    for (let i = 0; i + 4 <= f.payload.length; i += 4) values.push(view.getFloat32(i, true));
  }
  if (values.length !== count) return undefined;
  data.set(values);
  return { dims, data };
}
/** TensorProto.float_data */
const TensorProtoFloatData = 4;

/**
 * The value of a float32 tensor that is fixed in the file: an initializer or a Constant node's `value`;
 * undefined for anything computed or of another type.
 */
export function constantFloats(model: ParsedModel, tensor: string): FloatTensor | undefined {
  if (model.initializerNames.has(tensor)) {
    for (const f of model.graphFields) {
      if (f.no !== GraphProtoField.initializer) continue;
      const t = parseMessage(f.payload);
      if (firstString(t, TensorProtoField.name) === tensor) return tensorProtoFloats(t);
    }
  }
  const node = model.nodes.find((n) => n.opType === "Constant" && n.outputs[0] === tensor);
  for (const f of node?.fields ?? []) {
    if (f.no !== NodeProtoField.attribute) continue;
    const attr = parseMessage(f.payload);
    if (firstString(attr, AttributeProtoField.name) !== "value") continue;
    const t = attr.find((x) => x.no === AttributeProtoField.t);
    return t ? tensorProtoFloats(parseMessage(t.payload)) : undefined;
  }
  return undefined;
}

/** A float32 initializer from typed data (little-endian raw_data). */
export function floatTensorInitializer(
  name: string,
  dims: readonly number[],
  data: Float32Array,
): ProtoField {
  const raw = new Uint8Array(4 * data.length);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return tensorInitializer(name, ONNX_FLOAT, dims, raw);
}

/**
 * The model with nodes and initializers added (appended to the graph; `extractGraph` orders nodes
 * itself) and, for each `rewire` entry, every existing node that read the key reading the value instead.
 * Existing nodes are kept: whatever the edits make dead is pruned when extracting.
 */
export function withAdditions(
  model: ParsedModel,
  additions: {
    nodes: readonly ProtoField[];
    initializers: readonly ProtoField[];
    rewire?: ReadonlyMap<string, string>;
  },
): ParsedModel {
  const taken = new Set([...model.nodes.flatMap((n) => n.outputs), ...model.initializerNames]);
  const nodes = additions.nodes.map(parseNode);
  const initializerNames = new Set(model.initializerNames);
  for (const f of additions.initializers) {
    const name = fieldName(f, TensorProtoField.name);
    if (taken.has(name)) throw new GraphExtractionError(`tensor "${name}" already exists`);
    initializerNames.add(name);
    taken.add(name);
  }
  for (const n of nodes)
    for (const o of n.outputs)
      if (taken.has(o)) throw new GraphExtractionError(`tensor "${o}" already exists`);
  const rewire = additions.rewire ?? new Map<string, string>();
  const kept = model.nodes.map((n) =>
    n.inputs.some((i) => rewire.has(i))
      ? parseNode(buildNode(n, { inputs: n.inputs.map((i) => rewire.get(i) ?? i) }))
      : n,
  );
  return {
    ...model,
    graphFields: [...model.graphFields, ...additions.nodes, ...additions.initializers],
    nodes: [...kept, ...nodes],
    initializerNames,
  };
}
