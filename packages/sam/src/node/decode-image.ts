import sharp, { type Sharp } from "sharp";
import type { ResizedRgb } from "../preprocess";
import { preprocessShape } from "../transforms";

/** An image as SAM's encoder needs it. */
export interface DecodedImage {
  /** Original size after EXIF orientation: the frame prompts and masks live in. */
  width: number;
  height: number;
  /** RGB resized so the longest side is 1024 (SAM's preprocess shape), not yet padded. */
  resized: ResizedRgb;
  /** Full-resolution oriented RGB, only with `keepOriginal` (automatic passes crop from it). */
  original?: RawRgb;
}

/** Interleaved 8-bit RGB, row-major. */
export interface RawRgb {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/**
 * What transparent pixels become. SAM takes RGB and SA-1B ships JPEGs, so alpha has to go somewhere;
 * white matches how the annotator page shows a transparent image, so the model sees what the user sees.
 * The SA-1B export must flatten with the same colour for exported pixels to match annotated ones.
 */
export const FLATTEN_BACKGROUND = { r: 255, g: 255, b: 255 } as const;

/**
 * Resizing kernel. SAM resizes with PIL's bilinear filter, which widens its triangle kernel by the
 * downscale factor (an antialiased bilinear). libvips' `linear` reduce kernel does the same (support
 * scaled by the shrink), so `linear` is the closest match sharp offers; JPEG shrink-on-load is disabled
 * because it would swap that filter for a DCT-domain box filter on large JPEGs.
 */
export const RESIZE_KERNEL = "linear" as const;

export interface DecodeImageOptions {
  keepOriginal?: boolean;
}

export type ImageInput = Uint8Array | string;

/** Normalises any input to oriented, alpha-free 8-bit sRGB. */
function rgbPipeline(input: ImageInput): Sharp {
  return sharp(input, { autoOrient: true, failOn: "error" })
    .flatten({ background: FLATTEN_BACKGROUND })
    .toColourspace("srgb");
}

async function toRaw(pipeline: Sharp, what: string): Promise<RawRgb> {
  const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new ImageDecodeError(`${what}: expected 3 channels after conversion to sRGB, got ${info.channels}`);
  }
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Decodes any image sharp reads (JPEG, PNG incl. palette and 16-bit, WebP, TIFF incl. CMYK, GIF, AVIF…),
 * applies EXIF orientation, and converts to 8-bit sRGB (grayscale expanded, CMYK converted, alpha
 * flattened onto FLATTEN_BACKGROUND). Returns the oriented size and the pixels resized to SAM's
 * preprocess shape. Throws ImageDecodeError for anything that is not a readable image.
 */
export async function decodeImage(
  input: ImageInput,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  let width: number;
  let height: number;
  try {
    const meta = await sharp(input, { autoOrient: true, failOn: "error" }).metadata();
    width = meta.autoOrient?.width ?? meta.width;
    height = meta.autoOrient?.height ?? meta.height;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ImageDecodeError(`not a readable image (${reason})`);
  }
  if (!(width > 0 && height > 0)) throw new ImageDecodeError(`image has no pixels (${width}x${height})`);
  const target = preprocessShape(width, height);
  try {
    if (options.keepOriginal) {
      const original = await toRaw(rgbPipeline(input), "image");
      const resized = await resizeForSam(original);
      return { width: original.width, height: original.height, resized, original };
    }
    const resized = await toRaw(
      rgbPipeline(input).resize(target.width, target.height, {
        fit: "fill",
        kernel: RESIZE_KERNEL,
        fastShrinkOnLoad: false,
      }),
      "image",
    );
    return { width, height, resized };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new ImageDecodeError(`could not decode image pixels (${reason})`);
  }
}

/** Resizes raw RGB (e.g. a crop for the automatic pass) to SAM's preprocess shape with the same kernel. */
export async function resizeForSam(rgb: RawRgb): Promise<ResizedRgb> {
  const target = preprocessShape(rgb.width, rgb.height);
  if (target.width === rgb.width && target.height === rgb.height) {
    return { width: rgb.width, height: rgb.height, data: rgb.data };
  }
  return toRaw(
    sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).resize(
      target.width,
      target.height,
      {
        fit: "fill",
        kernel: RESIZE_KERNEL,
      },
    ),
    "raw RGB",
  );
}
