/**
 * Derives a multi-mask SAM decoder from a stock single-mask ONNX export.
 *
 * The stock export (`SamOnnxModel` with return_single_mask) computes all four mask tokens' logits and
 * IoU predictions, then picks one with an ArgMax over `iou + (num_points - 2.5) * [1000, 0, 0, 0]` and
 * an advanced-indexing gather (traced as Flatten + Gather). This module finds the tensors *before* that
 * gather by walking back from the `low_res_masks` / `iou_predictions` outputs to the Gather whose indices
 * come from the ArgMax, and exposes them as extra graph outputs. It also clones the stock upscaling
 * path (low_res_masks -> Resize to 1024 -> crop padding -> Resize to orig_im_size) so every candidate comes
 * back at original resolution, computed by the same ops as the stock `masks` output.
 * The stock outputs are kept, so the derived decoder's `masks`/`iou_predictions`/`low_res_masks` are
 * exactly the stock decoder's.
 */
import {
  buildNode,
  GraphProtoField,
  ONNX_FLOAT,
  type OnnxDim,
  type OnnxNode,
  type ParsedModel,
  parseModel,
  serializeModel,
  simpleNode,
  TensorShapeField,
  TensorTypeField,
  TypeProtoField,
  ValueInfoProtoField,
  valueInfoField,
} from "./onnx-graph";
import { messageField, ProtobufError, type ProtoField, parseMessage, stringField } from "./protobuf";

/** Output names of the derived decoder (in addition to the stock masks / iou_predictions / low_res_masks). */
export const MULTIMASK_OUTPUTS = {
  /** [B, 4, 256, 256] low-res logits of all mask tokens; index 0 is the single-mask token, 1-3 SAM's three choices. */
  lowResMasks: "all_low_res_masks",
  /** [B, 4] the IoU head's predictions for the same four candidates. */
  iouPredictions: "all_iou_predictions",
  /** [B, 4, H, W] all four candidates' logits upscaled to the original image size (only with fullResMasks). */
  masks: "all_masks",
} as const;

/** Symbolic name given to the point inputs' leading dimension when `symbolicBatch` is on. */
export const PROMPT_BATCH_DIM = "num_prompts";

/** Stock decoder output names this derivation relies on. */
const STOCK = { masks: "masks", iou: "iou_predictions", lowRes: "low_res_masks" } as const;

export interface DeriveOptions {
  /** Also expose `all_masks` (candidates at original resolution). Default true. */
  fullResMasks?: boolean;
  /**
   * Make point_coords / point_labels' leading dimension symbolic so several prompts can be decoded
   * against one embedding in a single run. Default true.
   */
  symbolicBatch?: boolean;
}

export class MultimaskDerivationError extends Error {
  override name = "MultimaskDerivationError";
}

export interface CandidateTensors {
  /** The [B, 4, 256, 256] logits tensor in the stock graph. */
  lowResMasks: string;
  /** The [B, 4] IoU head output in the stock graph. */
  iouPredictions: string;
}

/** Where each tensor is produced, for walking the graph backwards. */
function producers(nodes: readonly OnnxNode[]): Map<string, OnnxNode> {
  const m = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

function dependsOn(
  tensor: string,
  pred: (n: OnnxNode) => boolean,
  producedBy: Map<string, OnnxNode>,
): boolean {
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = producedBy.get(t);
    if (!n) continue;
    if (pred(n)) return true;
    for (const i of n.inputs) if (i) stack.push(i);
  }
  return false;
}

/** Ops a selected tensor passes through between the selecting Gather and the graph output. */
const PASS_THROUGH = new Set(["Unsqueeze", "Squeeze", "Reshape", "Identity", "Flatten", "Cast"]);

/**
 * From a stock output, walks back along data inputs to the Gather that selects with the ArgMax result;
 * the tensor it gathers from (before the Flatten the export inserts for advanced indexing) holds every
 * candidate.
 */
function findCandidatesBehind(output: string, producedBy: Map<string, OnnxNode>): string {
  const isArgMax = (n: OnnxNode) => n.opType === "ArgMax";
  let tensor = output;
  for (let step = 0; step < 32; step++) {
    const n = producedBy.get(tensor);
    if (!n) break;
    const [data, indices] = n.inputs;
    if (n.opType === "Gather" && data && indices && dependsOn(indices, isArgMax, producedBy)) {
      const src = producedBy.get(data);
      if (src?.opType === "Flatten" && src.inputs[0]) return src.inputs[0];
      return data;
    }
    if (!PASS_THROUGH.has(n.opType) && n.opType !== "Gather") break;
    if (!data) break;
    tensor = data;
  }
  throw new MultimaskDerivationError(
    `could not find the candidate tensor behind "${output}": this decoder does not look like SAM's single-mask ONNX export`,
  );
}

export function findCandidateTensors(model: ParsedModel): CandidateTensors {
  const outputNames = new Set(model.outputs.map((o) => o.name));
  for (const name of [STOCK.iou, STOCK.lowRes]) {
    if (!outputNames.has(name)) throw new MultimaskDerivationError(`decoder has no "${name}" output`);
  }
  const producedBy = producers(model.nodes);
  return {
    lowResMasks: findCandidatesBehind(STOCK.lowRes, producedBy),
    iouPredictions: findCandidatesBehind(STOCK.iou, producedBy),
  };
}

/**
 * The stock upscaling path: nodes that depend on `low_res_masks` and that `masks` depends on,
 * in graph (topological) order.
 */
function upscalingPath(nodes: readonly OnnxNode[]): OnnxNode[] {
  const producedBy = producers(nodes);
  const ancestors = new Set<OnnxNode>();
  const stack = [STOCK.masks as string];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = producedBy.get(t);
    if (!n) continue;
    ancestors.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  const tainted = new Set<string>([STOCK.lowRes]);
  const path: OnnxNode[] = [];
  for (const n of nodes) {
    if (!n.inputs.some((i) => tainted.has(i))) continue;
    for (const o of n.outputs) if (o) tainted.add(o);
    if (ancestors.has(n)) path.push(n);
  }
  if (!path.some((n) => n.outputs.includes(STOCK.masks))) {
    throw new MultimaskDerivationError('"masks" is not computed from "low_res_masks" in this decoder');
  }
  return path;
}

const SUFFIX = "/all_candidates";

/** Sets the leading dimension of a graph input's shape to a symbolic name, keeping everything else. */
function withSymbolicLeadingDim(field: ProtoField, dimParam: string): ProtoField {
  const edit = (
    fields: ProtoField[],
    no: number,
    fn: (payload: Uint8Array) => ProtoField[],
  ): ProtoField[] => {
    let done = false;
    return fields.map((f) => {
      if (done || f.no !== no) return f;
      done = true;
      return messageField(no, fn(f.payload));
    });
  };
  const vi = edit(parseMessage(field.payload), ValueInfoProtoField.type, (type) =>
    edit(parseMessage(type), TypeProtoField.tensorType, (tensor) =>
      edit(parseMessage(tensor), TensorTypeField.shape, (shape) =>
        edit(parseMessage(shape), TensorShapeField.dim, () => [stringField(2, dimParam)]),
      ),
    ),
  );
  return messageField(field.no, vi);
}

/** Derives the multi-mask decoder; the input is not modified. See the module comment. */
export function deriveMultimaskDecoder(model: Uint8Array, options: DeriveOptions = {}): Uint8Array {
  const fullRes = options.fullResMasks ?? true;
  const symbolicBatch = options.symbolicBatch ?? true;
  let parsed: ParsedModel;
  try {
    parsed = parseModel(model);
  } catch (e) {
    if (e instanceof ProtobufError)
      throw new MultimaskDerivationError(`not a readable ONNX model: ${e.message}`);
    throw e;
  }
  const taken = new Set(parsed.nodes.flatMap((n) => n.outputs));
  for (const name of Object.values(MULTIMASK_OUTPUTS)) {
    if (taken.has(name)) throw new MultimaskDerivationError(`decoder already has a tensor named "${name}"`);
  }
  const candidates = findCandidateTensors(parsed);

  const newNodes: ProtoField[] = [
    simpleNode(
      "Identity",
      `${MULTIMASK_OUTPUTS.lowResMasks}/Identity`,
      [candidates.lowResMasks],
      [MULTIMASK_OUTPUTS.lowResMasks],
    ),
    simpleNode(
      "Identity",
      `${MULTIMASK_OUTPUTS.iouPredictions}/Identity`,
      [candidates.iouPredictions],
      [MULTIMASK_OUTPUTS.iouPredictions],
    ),
  ];
  const newOutputs: ProtoField[] = [
    valueInfoField(GraphProtoField.output, {
      name: MULTIMASK_OUTPUTS.lowResMasks,
      elemType: ONNX_FLOAT,
      shape: [PROMPT_BATCH_DIM, 4, 256, 256],
    }),
    valueInfoField(GraphProtoField.output, {
      name: MULTIMASK_OUTPUTS.iouPredictions,
      elemType: ONNX_FLOAT,
      shape: [PROMPT_BATCH_DIM, 4],
    }),
  ];

  if (fullRes) {
    const rename = new Map<string, string>([[STOCK.lowRes, candidates.lowResMasks]]);
    for (const n of upscalingPath(parsed.nodes)) {
      const outputs = n.outputs.map((o) => {
        if (!o) return o;
        const renamed = o === STOCK.masks ? MULTIMASK_OUTPUTS.masks : `${o}${SUFFIX}`;
        if (taken.has(renamed) && renamed !== MULTIMASK_OUTPUTS.masks) {
          throw new MultimaskDerivationError(`decoder already has a tensor named "${renamed}"`);
        }
        rename.set(o, renamed);
        return renamed;
      });
      const inputs = n.inputs.map((i) => rename.get(i) ?? i);
      newNodes.push(buildNode(n, { name: `${n.name}${SUFFIX}`, inputs, outputs }));
    }
    const dims: OnnxDim[] = [PROMPT_BATCH_DIM, 4, "orig_height", "orig_width"];
    newOutputs.push(
      valueInfoField(GraphProtoField.output, {
        name: MULTIMASK_OUTPUTS.masks,
        elemType: ONNX_FLOAT,
        shape: dims,
      }),
    );
  }

  const pointInputs = new Set(["point_coords", "point_labels"]);
  const graphFields: ProtoField[] = [];
  const lastNode = lastIndexOf(parsed.graphFields, GraphProtoField.node);
  const lastOutput = lastIndexOf(parsed.graphFields, GraphProtoField.output);
  parsed.graphFields.forEach((f, i) => {
    if (symbolicBatch && f.no === GraphProtoField.input) {
      const name = parseMessage(f.payload).find((x) => x.no === ValueInfoProtoField.name);
      if (name && pointInputs.has(new TextDecoder().decode(name.payload))) {
        graphFields.push(withSymbolicLeadingDim(f, PROMPT_BATCH_DIM));
        return;
      }
    }
    graphFields.push(f);
    // New nodes go after the last stock node (their inputs are all computed by then), new outputs after
    // the stock ones so output order stays masks, iou_predictions, low_res_masks, then the additions.
    if (i === lastNode) graphFields.push(...newNodes);
    if (i === lastOutput) graphFields.push(...newOutputs);
  });
  return serializeModel(parsed.modelFields, graphFields);
}

function lastIndexOf(fields: readonly ProtoField[], no: number): number {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]!.no === no) return i;
  throw new MultimaskDerivationError(`graph has no field ${no}`);
}

/**
 * The stock decoder's choice among the four candidates, replicated: ArgMax of
 * `iou + (numDecoderPoints - 2.5) * [1000, 0, 0, 0]` (first maximum on ties, like ONNX ArgMax). With one
 * click plus the padding point (2 decoder points) or a box alone, it picks among the three multi-mask
 * candidates; with more points, the single-mask token (index 0). `numDecoderPoints` counts what the
 * decoder receives, padding point and box corners included (see `decoderPointCount`).
 */
export function selectStockCandidate(iou: ArrayLike<number>, numDecoderPoints: number, offset = 0): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const score = iou[offset + i]! + (i === 0 ? (numDecoderPoints - 2.5) * 1000 : 0);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}
