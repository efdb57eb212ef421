/**
 * Which decoder graphs the annotation page runs. The server derives them from a model version's stock
 * decoder and serves them to the browser's decoder worker under names that carry the sha256 of their bytes
 * (`servedDecoderGraphs`), so no name has to be bumped by hand when the derivation's output changes.
 */
import { deriveBrowserDecoder } from "./browser-decoder";
import { deriveMultimaskDecoder } from "./multimask";

/** Decoder graphs derived from the stock decoder by code in this repo, one file per part. */
export interface DecoderDerivation<Part extends string = string> {
  /** File-name stem; bump its version when the derivation's output changes, so stale files are not reused. */
  name: string;
  parts: readonly Part[];
  derive: (stock: Uint8Array) => Record<Part, Uint8Array>;
}

export const MULTIMASK_DERIVATION: DecoderDerivation<"model"> = {
  name: "decoder-multimask-v1",
  parts: ["model"],
  derive: (stock) => ({ model: deriveMultimaskDecoder(stock) }),
};

export const BROWSER_DECODER_PARTS = ["prepare", "click", "refine"] as const;
export type BrowserDecoderPart = (typeof BROWSER_DECODER_PARTS)[number];

/**
 * The parts shipped pre-optimised (see `servedDecoderGraphs`): all three. Creating a session with full
 * optimisation in WASM costs over a second per 16 MB per-click graph, and the small `prepare` graph is
 * worse: its constant folding (the key positional encoding and the no-mask dense embedding, 4 MB each)
 * ran on the opening's critical path for seconds. Pre-optimised it is 9 MB instead of 0.7 MB, read from
 * Cache Storage on later visits, and its session is created several times faster.
 */
export const BROWSER_PRE_OPTIMIZED_PARTS: readonly BrowserDecoderPart[] = ["prepare", "click", "refine"];

/**
 * See `deriveBrowserDecoder`. Served content-named (`servedDecoderGraphs`): the file name, URL and ETag are
 * the bytes' sha256, so changed output is a new name by construction.
 */
export const BROWSER_DECODER_DERIVATION: DecoderDerivation<BrowserDecoderPart> = {
  name: "decoder-browser",
  parts: BROWSER_DECODER_PARTS,
  derive: (stock) => {
    const { prepare, click, refine } = deriveBrowserDecoder(stock);
    return { prepare, click, refine };
  },
};
