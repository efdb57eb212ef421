/** Builders for SA-1B import/export tests: annotation files from real masks, real tar bytes and their unpacking (tar-stream). */
import { Readable } from "node:stream";
import { extract, pack } from "tar-stream";
import type { BinaryMask } from "../mask";
import { encodeMask, rleToBbox } from "../rle";
import type { Sa1bExportAnnotation, Sa1bExportFile } from "../sa1b-file";

/** An annotation for a mask, with SA-1B's fields (SAM's inclusive bbox) and optional extras. */
export function annotationFor(
  id: number,
  mask: BinaryMask,
  extra: Partial<Sa1bExportAnnotation> = {},
): Sa1bExportAnnotation {
  const segmentation = encodeMask(mask);
  const [x, y, w, h] = rleToBbox(segmentation);
  let area = 0;
  for (const v of mask.data) if (v !== 0) area += 1;
  return {
    id,
    segmentation,
    bbox: [x, y, Math.max(0, w - 1), Math.max(0, h - 1)],
    area,
    predicted_iou: 0.9,
    stability_score: 0.95,
    point_coords: [[x + w / 2, y + h / 2]],
    crop_box: [0, 0, mask.width, mask.height],
    ...extra,
  };
}

/** `sa_<n>.json` for an image of the given size. */
export function sa1bFileFor(
  n: number,
  size: { width: number; height: number },
  annotations: Sa1bExportAnnotation[],
): Sa1bExportFile {
  return {
    image: { image_id: n, width: size.width, height: size.height, file_name: `sa_${n}.jpg` },
    annotations,
  };
}

export const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

export interface TarMember {
  name: string;
  bytes: Uint8Array;
}

/** A real tar (ustar, with its end-of-archive blocks) of the members, in order. */
export async function tarBytes(members: readonly TarMember[]): Promise<Buffer> {
  const archive = pack();
  // Read while writing: the pack stream holds back entry callbacks once its buffer is full.
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.from(archive)) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  })();
  for (const member of members) {
    await new Promise<void>((resolve, reject) =>
      archive.entry({ name: member.name, size: member.bytes.byteLength }, member.bytes, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }
  archive.finalize();
  return collected;
}

/** Every member of a tar, by name, in archive order: from its bytes or from a stream still being written. */
export async function untarBytes(source: Uint8Array | Readable): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on("end", () => {
        members.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  if (source instanceof Readable) source.pipe(reader);
  else reader.end(Buffer.from(source.buffer, source.byteOffset, source.byteLength));
  await done;
  return members;
}
