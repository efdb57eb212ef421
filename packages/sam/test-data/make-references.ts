/**
 * Regenerates the reference masks in this folder from the default model with many-click prompts
 * (`npx tsx packages/sam/test-data/make-references.ts`). The masks were inspected as overlays before being
 * committed; regenerate only on purpose (e.g. a new default model) and look at them again.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BinaryMask } from "@sas/sa1b";
import sharp from "sharp";
import type { SamPrompt } from "../src";
import { decodeImage, NodeSam } from "../src/node";
import { REFERENCES } from "./references";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "../../../fixtures/images");

const sam = await NodeSam.load();
for (const ref of REFERENCES) {
  const embedding = await sam.encode(await decodeImage(path.join(fixtures, ref.image)));
  let maskInput: Float32Array | undefined;
  let mask: BinaryMask | undefined;
  // Each click refines the previous result, as an annotator's session does.
  for (let k = 1; k <= ref.points.length; k++) {
    const prompt: SamPrompt = { points: ref.points.slice(0, k), ...(ref.box ? { box: ref.box } : {}) };
    if (maskInput) prompt.maskInput = maskInput;
    const r = await sam.decode(embedding, prompt);
    maskInput = r.best.lowResLogits;
    mask = r.best.mask;
  }
  if (!mask) throw new Error(`reference ${ref.name} has no points`);
  const gray = Buffer.from(mask.data.map((v) => (v ? 255 : 0)));
  await sharp(gray, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .toColourspace("b-w")
    .png({ compressionLevel: 9, palette: true, colours: 2 })
    .toFile(path.join(here, `${ref.name}.png`));
  console.log(`${ref.name}.png`, mask.width, mask.height);
}
await sam.release();
