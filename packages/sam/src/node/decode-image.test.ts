import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeImage, ImageDecodeError, resizeForSam } from "./decode-image";

function pixel(rgb: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * rgb.width + x) * 3;
  return Array.from(rgb.data.subarray(i, i + 3));
}

function solidRaw(width: number, height: number, channels: 3 | 4, fill: (x: number, y: number) => number[]) {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * channels);
  return sharp(data, { raw: { width, height, channels } });
}

describe("decodeImage", () => {
  it("resizes to SAM's preprocess shape and reports the original size", async () => {
    const png = await solidRaw(200, 100, 3, () => [10, 200, 30])
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    expect([img.width, img.height]).toEqual([200, 100]);
    expect([img.resized.width, img.resized.height]).toEqual([1024, 512]);
    expect(img.resized.data.length).toBe(1024 * 512 * 3);
    expect(pixel(img.resized, 500, 300)).toEqual([10, 200, 30]);
    expect(img.original).toBeUndefined();
  });

  it("expands grayscale to RGB", async () => {
    const gray = await solidRaw(64, 48, 3, () => [90, 90, 90])
      .toColourspace("b-w")
      .png()
      .toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const img = await decodeImage(gray);
    expect([img.resized.width, img.resized.height]).toEqual([1024, 768]);
    expect(pixel(img.resized, 100, 100)).toEqual([90, 90, 90]);
  });

  it("flattens RGBA onto white", async () => {
    // left half opaque red, right half fully transparent black
    const rgba = await solidRaw(100, 50, 4, (x) => (x < 50 ? [255, 0, 0, 255] : [0, 0, 0, 0]))
      .png()
      .toBuffer();
    const img = await decodeImage(rgba, { keepOriginal: true });
    expect(pixel(img.original!, 10, 10)).toEqual([255, 0, 0]);
    expect(pixel(img.original!, 90, 10)).toEqual([255, 255, 255]);
    expect(pixel(img.resized, 100, 100)).toEqual([255, 0, 0]);
    expect(pixel(img.resized, 900, 100)).toEqual([255, 255, 255]);
  });

  it("reduces 16-bit PNG to 8 bits", async () => {
    const wide = new Uint16Array(32 * 16 * 3).fill(40000);
    const png16 = await sharp(wide, { raw: { width: 32, height: 16, channels: 3 } })
      .toColourspace("rgb16")
      .png()
      .toBuffer();
    const meta = await sharp(png16).metadata();
    expect(meta.depth).toBe("ushort");
    const img = await decodeImage(png16);
    expect([img.width, img.height]).toEqual([32, 16]);
    const v = Math.round(40000 / 257); // 156
    for (const c of pixel(img.resized, 10, 10)) expect(Math.abs(c - v)).toBeLessThanOrEqual(1);
  });

  it("converts CMYK JPEG and TIFF to RGB", async () => {
    const base = () => solidRaw(40, 40, 3, () => [200, 40, 40]).toColourspace("cmyk");
    for (const buf of [await base().jpeg({ quality: 95 }).toBuffer(), await base().tiff().toBuffer()]) {
      const meta = await sharp(buf).metadata();
      expect(meta.space).toBe("cmyk");
      const img = await decodeImage(buf);
      const [r, g, b] = pixel(img.resized, 512, 512);
      // colour-managed round trip: clearly red, not exact
      expect(r).toBeGreaterThan(150);
      expect(g).toBeLessThan(90);
      expect(b).toBeLessThan(90);
      expect(img.resized.data.length).toBe(1024 * 1024 * 3);
    }
  });

  it("reads palette PNGs", async () => {
    const pal = await solidRaw(30, 20, 3, (x) => (x < 15 ? [0, 0, 255] : [255, 255, 0]))
      .png({ palette: true, colours: 4 })
      .toBuffer();
    expect((await sharp(pal).metadata()).isPalette).toBe(true);
    const img = await decodeImage(pal, { keepOriginal: true });
    expect(pixel(img.original!, 2, 2)).toEqual([0, 0, 255]);
    expect(pixel(img.original!, 28, 2)).toEqual([255, 255, 0]);
  });

  it("applies EXIF orientation (6: rotate 90° clockwise, width and height swapped)", async () => {
    // stored 80x40: left half red, right half blue; displayed 40x80 with red on top
    const jpeg = await solidRaw(80, 40, 3, (x) => (x < 40 ? [255, 0, 0] : [0, 0, 255]))
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const img = await decodeImage(jpeg, { keepOriginal: true });
    expect([img.width, img.height]).toEqual([40, 80]);
    expect([img.original!.width, img.original!.height]).toEqual([40, 80]);
    expect([img.resized.width, img.resized.height]).toEqual([512, 1024]);
    const [tr, , tb] = pixel(img.resized, 256, 100);
    const [br, , bb] = pixel(img.resized, 256, 900);
    expect(tr).toBeGreaterThan(200);
    expect(tb).toBeLessThan(60);
    expect(bb).toBeGreaterThan(200);
    expect(br).toBeLessThan(60);
  });

  it("throws ImageDecodeError for non-images and empty input", async () => {
    await expect(decodeImage(Buffer.from("this is not an image at all"))).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(Buffer.from("this is not an image at all"))).rejects.toThrow(
      /not a readable image/,
    );
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage("/nonexistent/file.png")).rejects.toThrow(ImageDecodeError);
  });
});

describe("resizeForSam", () => {
  it("resizes raw RGB crops with the same kernel and passes through 1024-long images", async () => {
    const crop = { width: 300, height: 150, data: new Uint8Array(300 * 150 * 3).fill(77) };
    const r = await resizeForSam(crop);
    expect([r.width, r.height]).toEqual([1024, 512]);
    expect(pixel(r, 1000, 500)).toEqual([77, 77, 77]);
    const big = { width: 1024, height: 10, data: new Uint8Array(1024 * 10 * 3) };
    expect((await resizeForSam(big)).data).toBe(big.data);
  });
});
