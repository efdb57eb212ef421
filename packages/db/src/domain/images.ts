import { createHash } from "node:crypto";
import path from "node:path";
import { type BlobStorage, imageKey } from "@sas/storage";
import sharp, { type Metadata } from "sharp";
import type { Image, PrismaClient } from "../generated/prisma/client";

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

/** Checks that the bytes are a whole, decodable, sensibly sized image, and describes it. */
export async function probeImage(filename: string, bytes: Uint8Array): Promise<ProbedImage> {
  if (bytes.byteLength === 0) throw new ImageRejectedError(filename, "the file is empty");
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
  } catch (error) {
    throw new ImageRejectedError(filename, `not a readable image (${(error as Error).message})`);
  }
  const format = metadata.format ? acceptedFormats[metadata.format] : undefined;
  if (!format)
    throw new ImageRejectedError(filename, `unsupported image format ${metadata.format ?? "unknown"}`);
  const orientation = metadata.orientation ?? 1;
  const rawWidth = metadata.width ?? 0;
  const rawHeight = metadata.height ?? 0;
  // EXIF orientations 5-8 rotate by 90°, so the displayed image swaps width and height.
  const [width, height] = orientation >= 5 ? [rawHeight, rawWidth] : [rawWidth, rawHeight];
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageRejectedError(filename, `too many pixels (${width}x${height}; limit ${MAX_IMAGE_PIXELS})`);
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
    // A header can be fine while the pixel data is truncated: decode fully once to be sure.
    await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "truncated" }).stats();
  } catch (error) {
    throw new ImageRejectedError(filename, `the image data is damaged (${(error as Error).message})`);
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

export interface IngestInput {
  projectId: string;
  filename: string;
  bytes: Uint8Array;
  uploadedById?: string | null;
}

export type IngestResult = { status: "created"; image: Image } | { status: "duplicate"; image: Image };

/**
 * Stores an original and records it. The blob is written first (content-addressed, so a retry rewrites
 * the same key) and the row second, so a crash between the two leaves no row pointing at nothing.
 */
export async function ingestImage(
  db: PrismaClient,
  blobs: BlobStorage,
  input: IngestInput,
): Promise<IngestResult> {
  const filename = path.basename(input.filename);
  const probed = await probeImage(filename, input.bytes);
  const existing = await db.image.findUnique({
    where: { projectId_sha256: { projectId: input.projectId, sha256: probed.sha256 } },
  });
  if (existing) return { status: "duplicate", image: existing };

  const storageKey = imageKey(probed.sha256, probed.extension);
  if (!(await blobs.exists(storageKey))) await blobs.put(storageKey, input.bytes);
  try {
    const image = await db.image.create({
      data: {
        projectId: input.projectId,
        filename,
        mimeType: probed.mimeType,
        width: probed.width,
        height: probed.height,
        orientation: probed.orientation,
        sizeBytes: BigInt(input.bytes.byteLength),
        sha256: probed.sha256,
        storageKey,
        uploadedById: input.uploadedById ?? null,
      },
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
