import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { type GroundTruth, groundTruthFromGray } from "../src/clicker";

/** Extensions accepted for images, compared case-insensitively. */
const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"]);

/** The 40-pair COCO-MVal dev set in the repository (fixtures/coco-mval-dev): the benchmarks' default. */
export const DEV_DATASET = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../fixtures/coco-mval-dev",
);

export interface DatasetSample {
  name: string;
  imagePath: string;
  gtPath: string;
}

export class DatasetError extends Error {
  override name = "DatasetError";
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The (image, ground truth) pairs of an interactive-segmentation dataset laid out as `img/` and `gt/`
 * (the DAVIS / COCO-MVal convention), matched by basename and sorted by name so runs are comparable.
 */
export async function listDataset(dir: string): Promise<DatasetSample[]> {
  if (!(await isDirectory(dir))) throw new DatasetError(`dataset dir not found: ${dir}`);
  const imgDir = path.join(dir, "img");
  const gtDir = path.join(dir, "gt");
  for (const sub of [imgDir, gtDir]) {
    if (!(await isDirectory(sub))) {
      throw new DatasetError(`dataset dir ${dir} has no ${path.basename(sub)}/ folder`);
    }
  }

  const gtByStem = new Map<string, string>();
  for (const file of await readdir(gtDir)) {
    if (path.extname(file).toLowerCase() !== ".png") continue;
    gtByStem.set(path.parse(file).name, path.join(gtDir, file));
  }

  const samples: DatasetSample[] = [];
  const missing: string[] = [];
  for (const file of (await readdir(imgDir)).sort()) {
    if (!IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
    const name = path.parse(file).name;
    const gtPath = gtByStem.get(name);
    if (gtPath) samples.push({ name, imagePath: path.join(imgDir, file), gtPath });
    else missing.push(file);
  }
  if (missing.length > 0) {
    const shown =
      missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, … (${missing.length} in all)` : "");
    throw new DatasetError(`no ground truth in ${gtDir} (expected <name>.png) for: ${shown}`);
  }
  if (samples.length === 0) throw new DatasetError(`no images in ${imgDir}`);
  return samples;
}

/**
 * Loads a ground-truth PNG (255 object, 0 background, 128 ignore). Colour PNGs take the per-pixel
 * maximum over colour channels, as the reference DAVIS loader does, so a mask saved as RGB still
 * reads the same; alpha is not a label and is dropped.
 */
export async function loadGroundTruth(gtPath: string): Promise<GroundTruth> {
  const { data, info } = await sharp(gtPath).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels;
  const gray = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < gray.length; i++, j += channels) {
    let v = data[j]!;
    for (let c = 1; c < colour; c++) v = Math.max(v, data[j + c]!);
    gray[i] = v;
  }
  return groundTruthFromGray(gray, width, height);
}
