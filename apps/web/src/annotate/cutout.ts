/**
 * "Cut out" (as in the Segment Anything demo): the object under a mask as a transparent PNG, cropped to
 * the mask's box, at the original image's resolution.
 */
import { type CocoRle, decodeRle, maskExtent } from "@sas/sa1b";

export async function cutoutPng(image: HTMLImageElement, rle: CocoRle): Promise<Blob> {
  const mask = decodeRle(rle);
  const e = maskExtent(mask);
  if (!e) throw new Error("the mask is empty");
  const w = e.x1 - e.x0 + 1;
  const h = e.y1 - e.y0 + 1;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d canvas");
  ctx.drawImage(image, e.x0, e.y0, w, h, 0, 0, w, h);
  const px = ctx.getImageData(0, 0, w, h);
  for (let y = 0; y < h; y++) {
    const row = (e.y0 + y) * mask.width + e.x0;
    for (let x = 0; x < w; x++) if (!mask.data[row + x]) px.data[4 * (y * w + x) + 3] = 0;
  }
  ctx.putImageData(px, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("PNG encoding failed"))), "image/png"),
  );
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
