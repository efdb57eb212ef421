import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { decodeImage } from "./decode-image";
import type { ModelFiles } from "./model-files";
import { NodeSam } from "./session";

/** The uploaded files do not behave as a SAM encoder + decoder; the message says which part failed and why. */
export class ModelPairError extends Error {
  override name = "ModelPairError";
  constructor(reason: string) {
    super(`not a SAM encoder/decoder pair: ${reason}`);
  }
}

export interface ModelPairCheck {
  encodeMs: number;
  decodeMs: number;
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 300);

/**
 * A small synthetic image (a diagonal gradient with a bright square) encoded as PNG: any SAM encoder turns
 * it into an embedding, and a click on the square gives the decoder a non-trivial prompt. Generated instead
 * of read from disk, so validation works on any host.
 */
async function fixtureImage(): Promise<Uint8Array> {
  const width = 96;
  const height = 64;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const inSquare = x >= 32 && x < 64 && y >= 16 && y < 48;
      const i = (y * width + x) * 3;
      rgb[i] = inSquare ? 250 : x * 2;
      rgb[i + 1] = inSquare ? 240 : y * 3;
      rgb[i + 2] = inSquare ? 40 : 120;
    }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * Runs a candidate pair once: loads both files (the decoder must have the SAM decoder's graph, since the
 * multi-mask decoder is derived from it), encodes a fixture image (the embedding must be [1,256,64,64]) and
 * decodes one click. Throws ModelPairError naming the part that failed. The derived decoder is built in a
 * throwaway cache directory so a rejected upload leaves nothing behind.
 */
export async function validateModelPair(files: ModelFiles): Promise<ModelPairCheck> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "sas-model-check-"));
  let sam: NodeSam | undefined;
  try {
    try {
      sam = await NodeSam.load(files, { cacheDir });
    } catch (e) {
      throw new ModelPairError(`the files do not load as an encoder and a SAM decoder (${reason(e)})`);
    }
    const image = await decodeImage(await fixtureImage());
    let started = performance.now();
    let embedding: Awaited<ReturnType<NodeSam["encode"]>>;
    try {
      embedding = await sam.encode(image);
    } catch (e) {
      throw new ModelPairError(`the encoder did not encode a test image (${reason(e)})`);
    }
    const encodeMs = performance.now() - started;
    if (embedding.data.length !== 256 * 64 * 64)
      throw new ModelPairError(
        `the encoder's output has ${embedding.data.length} values, expected 1x256x64x64`,
      );
    started = performance.now();
    try {
      const { best } = await sam.decode(embedding, { points: [{ x: 48, y: 32, label: 1 }] });
      if (!Number.isFinite(best.predictedIou)) throw new Error("predicted IoU is not a number");
    } catch (e) {
      throw new ModelPairError(
        `the decoder did not decode a click on the encoder's embedding (${reason(e)})`,
      );
    }
    return { encodeMs, decodeMs: performance.now() - started };
  } finally {
    await sam?.release().catch(() => undefined);
    await rm(cacheDir, { recursive: true, force: true });
  }
}
