/**
 * The transformer's last token-to-image attention for the output tokens only. After it SAM reads just
 * the IoU token and the mask tokens (the first 1 + 4 tokens; the prompt's point tokens come after them),
 * and attention rows are independent of each other, so slicing the queries (and their residual) to those
 * tokens before the attention leaves every used value as it was and drops the point tokens' share of the
 * two products with the 4096 image tokens (2 x points x heads x 4096 x 256 multiply-adds per click).
 */
import { consumers } from "./graph-rewrites";
import { int64Initializer, opNode, type ParsedModel, withAdditions } from "./onnx-graph";

const PREFIX = "/final_tokens";
const FINAL_ATTENTION = "/transformer/final_attn_token_to_image";

/** See the module comment; undefined (nothing changed) when the decoder's last attention is not SAM's. */
export function sliceFinalAttention(model: ParsedModel): ParsedModel | undefined {
  // found by the export's names: the other rewrites may already have replaced the products in between
  const qProj = model.nodes.find((n) => n.name === `${FINAL_ATTENTION}/q_proj/MatMul`);
  const outProj = model.nodes.find((n) => n.name === `${FINAL_ATTENTION}/out_proj/Add`);
  if (qProj?.opType !== "MatMul" || outProj?.opType !== "Add") return undefined;
  const a = { qIn: qProj.inputs[0]!, output: outProj.outputs[0]! };
  const uses = consumers(model.nodes);
  const only = (t: string) => {
    const u = uses.get(t) ?? [];
    return u.length === 1 ? u[0] : undefined;
  };
  const residual = only(a.output);
  const norm = residual && only(residual.outputs[0]!);
  if (residual?.opType !== "Add" || norm?.opType !== "LayerNormalization") return undefined;
  const queries = residual.inputs.find((i) => i !== a.output);
  // the output tokens: SAM's IoU token, then one token per hypernetwork (mask) head
  const readers = uses.get(norm.outputs[0]!) ?? [];
  const kinds = readers.map((n) => n.opType).sort();
  if (!queries || kinds.join() !== "Gather,Slice") return undefined;
  const heads = new Set(
    model.nodes.map((n) => /^\/output_hypernetworks_mlps\.(\d+)\//.exec(n.name)?.[1]).filter(Boolean),
  );
  if (heads.size === 0) return undefined;
  const tokens = 1 + heads.size;
  const t = (s: string) => `${PREFIX}/${s}`;
  const slice = (name: string, input: string) =>
    opNode("Slice", t(name), [input, t("starts"), t("ends"), t("axes")], [t(`${name}_out`)]);
  return withAdditions(model, {
    nodes: [
      // the query input (queries + positional encoding) is shared with layer 1's keys: a sliced copy
      slice("queries_in", a.qIn),
      opNode("MatMul", t("q_proj"), [t("queries_in_out"), qProj.inputs[1]!], [t("q_proj_out")]),
      slice("residual_in", queries),
      opNode("Add", t("residual"), [t("residual_in_out"), a.output], [t("residual_out")]),
    ],
    initializers: [
      int64Initializer(t("starts"), [0]),
      int64Initializer(t("ends"), [tokens]),
      int64Initializer(t("axes"), [1]),
    ],
    rewire: new Map([
      [qProj.outputs[0]!, t("q_proj_out")],
      [residual.outputs[0]!, t("residual_out")],
    ]),
  });
}
