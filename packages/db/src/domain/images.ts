import { createHash } from "node:crypto";
import path from "node:path";
import { BlobNotFoundError, type BlobStorage, imageKey, thumbnailKey } from "@sas/storage";
import sharp, { type Metadata } from "sharp";
import type { Image, Prisma, PrismaClient } from "../generated/prisma/client";

/** Decompression-bomb guard: sharp refuses anything with more pixels than this. */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** SAM's encoder sees the longest side at 1024 px; a side this thin carries no usable content. */
export const MIN_IMAGE_SIDE = 8;
export const MAX_ASPECT_RATIO = 50;

const acceptedFormats: Record<string, { mime: string; ext: string }> = {
  jpeg: { mime: "image/jpeg", ext: "jpg" },
  png: { mime: "image/png", ext: "png" },
  webp: { mime: "image/webp", ext: "webp" },
  tiff: { mime: "image/tiff", ext: "tif" },
  gif: { mime: "image/gif", ext: "gif" },
  avif: { mime: "image/avif", ext: "avif" },
  heif: { mime: "image/heif", ext: "heic" },
};

export class ImageRejectedError extends Error {
  override name = "ImageRejectedError";
  constructor(
    readonly filename: string,
    readonly reason: string,
  ) {
    super(`${filename}: ${reason}`);
  }
}

export interface ProbedImage {
  sha256: string;
  mimeType: string;
  extension: string;
  width: number;
  height: number;
  orientation: number;
}

/**
 * PNG and GIF headers state the size before any pixel data; libvips refuses a zero there with a bare
 * "corrupt header", so read it ourselves to say what is actually wrong.
 */
function declaredSize(bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const startsWith = (magic: number[]) => magic.every((byte, i) => bytes[i] === byte);
  if (bytes.byteLength >= 24 && startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.byteLength >= 10 && startsWith([0x47, 0x49, 0x46, 0x38])) {
    return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  return null;
}

/** libvips messages end with a colon or newline when they have no detail; keep them to one clean line. */
const vipsMessage = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0]!.replace(/[:\s]+$/, "");

/** Checks that the bytes are a whole, decodable, sensibly sized image, and describes it. */
export async function probeImage(filename: string, bytes: Uint8Array): Promise<ProbedImage> {
  if (bytes.byteLength === 0) throw new ImageRejectedError(filename, "the file is empty");
  const declared = declaredSize(bytes);
  if (declared && (declared.width === 0 || declared.height === 0)) {
    throw new ImageRejectedError(filename, `the image has no pixels (${declared.width}x${declared.height})`);
  }
  let metadata: Metadata;
  try {
    // Reading the header decodes no pixels, so it runs without the pixel limit: that way a
    // decompression bomb is refused below with its real size instead of a generic libvips error.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejectedError(filename, `not a readable image (${vipsMessage(error)})`);
  }
  const format = metadata.format ? acceptedFormats[metadata.format] : undefined;
  if (!format)
    throw new ImageRejectedError(filename, `unsupported image format ${metadata.format ?? "unknown"}`);
  const orientation = metadata.orientation ?? 1;
  const rawWidth = metadata.width ?? 0;
  const rawHeight = metadata.height ?? 0;
  // EXIF orientations 5-8 rotate by 90°, so the displayed image swaps width and height.
  const [width, height] = orientation >= 5 ? [rawHeight, rawWidth] : [rawWidth, rawHeight];
  if (width === 0 || height === 0) {
    throw new ImageRejectedError(filename, `the image has no pixels (${width}x${height})`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageRejectedError(
      filename,
      `too many pixels (${width}x${height}; the limit is ${MAX_IMAGE_PIXELS.toLocaleString("en-US")})`,
    );
  }
  if (Math.min(width, height) < MIN_IMAGE_SIDE) {
    throw new ImageRejectedError(
      filename,
      `too small (${width}x${height}; each side needs ${MIN_IMAGE_SIDE} px)`,
    );
  }
  if (Math.max(width, height) / Math.min(width, height) > MAX_ASPECT_RATIO) {
    throw new ImageRejectedError(filename, `aspect ratio over ${MAX_ASPECT_RATIO}:1 (${width}x${height})`);
  }
  try {
    // A header can be fine while the pixel data is truncated: decode fully once to be sure. "truncated"
    // rather than sharp's default "warning", so benign libjpeg warnings in real camera files still pass.
    await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "truncated" }).stats();
  } catch (error) {
    throw new ImageRejectedError(filename, `the image data is damaged (${vipsMessage(error)})`);
  }
  return {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    mimeType: format.mime,
    extension: format.ext,
    width,
    height,
    orientation,
  };
}

/** Longest side of the previews the project grid shows. */
export const THUMBNAIL_SIDE = 320;

/**
 * A small upright WebP preview of a stored original, for image grids: originals can be tens of
 * megabytes, and TIFF/HEIF originals do not display in browsers at all.
 */
export async function renderThumbnail(bytes: Uint8Array, side = THUMBNAIL_SIDE): Promise<Buffer> {
  return sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
    .rotate()
    .resize(side, side, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer();
}

/**
 * The image's stored preview, rendered from the original on first request and kept in storage (key
 * derived from the original's hash), so a grid of previews costs reads, not image decodes, on every host.
 */
export async function storedThumbnail(
  blobs: BlobStorage,
  image: Pick<Image, "sha256" | "storageKey">,
): Promise<Buffer> {
  const key = thumbnailKey(image.sha256, THUMBNAIL_SIDE);
  const kept = await blobs.get(key).catch((error: unknown) => {
    if (error instanceof BlobNotFoundError) return null;
    throw error;
  });
  if (kept) return kept;
  const preview = await renderThumbnail(await blobs.get(image.storageKey));
  await blobs.put(key, preview);
  return preview;
}

const MAX_FILENAME_LENGTH = 255;

/**
 * The name shown to people: the last path segment (browsers and tar entries may carry `/` or `\`),
 * without control characters, at most 255 characters (keeping the extension).
 */
export function cleanFilename(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const base = (name.split(/[\\/]/).pop() ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  if (base.length <= MAX_FILENAME_LENGTH) return base;
  const ext = path.extname(base).slice(0, 16);
  return base.slice(0, MAX_FILENAME_LENGTH - ext.length) + ext;
}

export interface IngestInput {
  projectId: string;
  filename: string;
  bytes: Uint8Array;
  uploadedById?: string | null;
}

export type IngestResult = { status: "created"; image: Image } | { status: "duplicate"; image: Image };

/**
 * Writes an original's bytes under their content-addressed key (once: the same bytes reuse it) and
 * returns the key. Uploads and imports store originals alike.
 */
export async function storeOriginal(
  blobs: BlobStorage,
  probed: ProbedImage,
  bytes: Uint8Array,
): Promise<string> {
  const storageKey = imageKey(probed.sha256, probed.extension);
  if (!(await blobs.exists(storageKey))) await blobs.put(storageKey, bytes);
  return storageKey;
}

/** The Image row of a probed original stored at `storageKey`, as every way in (upload, import) records it. */
export function imageRow(
  projectId: string,
  filename: string,
  probed: ProbedImage,
  bytes: Uint8Array,
  storageKey: string,
  uploadedById: string | null = null,
): Prisma.ImageUncheckedCreateInput {
  return {
    projectId,
    filename,
    mimeType: probed.mimeType,
    width: probed.width,
    height: probed.height,
    orientation: probed.orientation,
    sizeBytes: BigInt(bytes.byteLength),
    sha256: probed.sha256,
    storageKey,
    uploadedById,
  };
}

/**
 * Stores an original and records it. The blob is written first (content-addressed, so a retry rewrites
 * the same key) and the row second, so a crash between the two leaves no row pointing at nothing.
 */
export async function ingestImage(
  db: PrismaClient,
  blobs: BlobStorage,
  input: IngestInput,
): Promise<IngestResult> {
  const filename = cleanFilename(input.filename);
  if (!filename) throw new ImageRejectedError(input.filename, "the file has no name");
  const probed = await probeImage(filename, input.bytes);
  const existing = await db.image.findUnique({
    where: { projectId_sha256: { projectId: input.projectId, sha256: probed.sha256 } },
  });
  if (existing) return { status: "duplicate", image: existing };

  const storageKey = await storeOriginal(blobs, probed, input.bytes);
  try {
    const image = await db.image.create({
      data: imageRow(input.projectId, filename, probed, input.bytes, storageKey, input.uploadedById),
    });
    return { status: "created", image };
  } catch (error) {
    // Two uploads of the same file racing: the unique (projectId, sha256) index picks one winner.
    if ((error as { code?: string }).code === "P2002") {
      const image = await db.image.findUniqueOrThrow({
        where: { projectId_sha256: { projectId: input.projectId, sha256: probed.sha256 } },
      });
      return { status: "duplicate", image };
    }
    throw error;
  }
}
