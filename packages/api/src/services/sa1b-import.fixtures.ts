/**
 * Real data for SA-1B import tests: photos from the shared fixtures and COCO-MVal photos with their
 * ground-truth masks (see fixtures/NOTICE.md).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "@sas/config";
import { type BinaryMask, createMask } from "@sas/sa1b";
import sharp from "sharp";

const fixtures = path.resolve(repoRoot, "fixtures");

export const fixtureImage = (name: string): Promise<Buffer> => readFile(path.join(fixtures, "images", name));

export const cocoImage = (name: string): Promise<Buffer> =>
  readFile(path.join(fixtures, "coco-mval/img", `${name}.jpg`));

/** A COCO-MVal ground-truth mask (255 on the object) as a BinaryMask. */
export async function cocoMask(name: string): Promise<BinaryMask> {
  const { data, info } = await sharp(path.join(fixtures, "coco-mval/gt", `${name}.png`))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const mask = createMask(info.width, info.height);
  for (let i = 0; i < data.length; i++) mask.data[i] = data[i]! > 127 ? 1 : 0;
  return mask;
}

/** The same mask's pixels as 0/1, for comparing with what a stored RLE decodes to. */
export const bits = (mask: BinaryMask): Uint8Array => mask.data.map((v) => (v ? 1 : 0));
