import { type BrowserDecoderModels, deriveBrowserDecoder } from "../browser-decoder";
import { defaultModelFiles, type ModelFiles, readVerifiedModelFile } from "./model-files";

/** Reads and verifies a model version's stock decoder and derives the browser decoder models from it. */
export async function loadBrowserDecoderModels(
  files: ModelFiles = defaultModelFiles(),
): Promise<BrowserDecoderModels> {
  return deriveBrowserDecoder(await readVerifiedModelFile(files.decoderPath, files.decoderSha256));
}
