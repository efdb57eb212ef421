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
 * The parts shipped pre-optimised (see `servedDecoderGraphs`): the two 16 MB per-click graphs, whose
 * session creation in WASM otherwise costs over a second each. `prepare` stays as derived: optimising it
 * folds constants into a 9 MB file (from 0.7 MB) for little gain.
 */
export const BROWSER_PRE_OPTIMIZED_PARTS: readonly BrowserDecoderPart[] = ["click", "refine"];

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
