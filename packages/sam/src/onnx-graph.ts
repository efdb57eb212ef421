/**
 * Just enough of ONNX's protobuf schema (onnx.proto) to read a graph's topology and add outputs/nodes,
 * on top of the lossless wire-format layer in `protobuf.ts`. Everything not named here is carried as bytes.
 */
import {
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
export const TensorProtoField = { dims: 1, dataType: 2, name: 8 } as const;
/** TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1;

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

/** A ValueInfoProto for a graph input/output (field number chosen by the caller: 11 input, 12 output). */
export function valueInfoField(
  no: number,
  info: { name: string; elemType: number; shape: OnnxDim[] },
): ProtoField {
  const shape = messageField(TensorTypeField.shape, info.shape.map(dimField));
  const tensorType = messageField(TypeProtoField.tensorType, [
    varintField(TensorTypeField.elemType, info.elemType),
    shape,
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
