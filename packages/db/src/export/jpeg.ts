import { FLATTEN_BACKGROUND } from "@sas/sam/node";
import sharp from "sharp";

/** JPEG quality of exported images (SA-1B's published JPEGs are high quality too). */
export const EXPORT_JPEG_QUALITY = 90;

/**
 * An original re-encoded as the JPEG an export ships: EXIF orientation applied (masks are in displayed
 * pixels), alpha flattened onto the same background the encoder saw, resized when the release is
 * downsampled, metadata stripped.
 */
export async function exportJpeg(
  original: Uint8Array,
  size: { width: number; height: number; resized: boolean },
): Promise<Buffer> {
  let pipeline = sharp(original, { failOn: "error" }).rotate().flatten({ background: FLATTEN_BACKGROUND });
  if (size.resized) pipeline = pipeline.resize(size.width, size.height, { fit: "fill", kernel: "lanczos3" });
  return pipeline.jpeg({ quality: EXPORT_JPEG_QUALITY, mozjpeg: false }).toBuffer();
}
