import { Readable } from "node:stream";
import { type CocoRle, cocoRleSchema, SA1B_MEMBER, type Sa1bExportFile } from "@sas/sa1b";
import {
  annotationRecord,
  COCO_NAME,
  CocoCategories,
  cocoAnnotation,
  type ExportMaskInput,
  FILE_LIST_NAME,
  jsonLine,
  MANIFEST_NAME,
  ManifestBuilder,
  releaseSize,
  shardName,
  TarShardWriter,
} from "@sas/sa1b/export";
import type { BlobStorage } from "@sas/storage";
import { z } from "zod";
import type { ExportParams } from "../domain/exports";
import type { PrismaClient } from "../generated/prisma/client";
import { countExportImages, type ExportImageRow, exportImageBatches } from "./cursor";
import { exportJpeg } from "./jpeg";
import { Spool } from "./spool";

/** Where an export's files go: storage under `exports/<id>/`, or a directory for the command line. */
export interface ExportSink {
  put(name: string, data: Uint8Array | Readable): Promise<{ sizeBytes: number }>;
}

/** A sink writing `<prefix><name>` into blob storage. */
export const storageSink = (blobs: BlobStorage, prefix: string): ExportSink => ({
  put: (name, data) => blobs.put(`${prefix}${name}`, data),
});

export interface ExportRunInput {
  exportId: string;
  projectId: string;
  projectName: string;
  params: ExportParams;
  createdAt: Date;
}

export interface ExportRunHooks {
  /** After each batch of images. */
  onProgress?(progress: { totalImages: number; doneImages: number; masks: number }): Promise<void>;
  /** Asked between batches; true stops the export with ExportCancelledError. */
  shouldStop?(): Promise<boolean>;
  /** Images per database batch (default 50). */
  batchSize?: number;
}

export interface ExportRunResult {
  images: number;
  masks: number;
  sizeBytes: number;
  files: { name: string; sizeBytes: number }[];
}

export class ExportCancelledError extends Error {
  override name = "ExportCancelledError";
}

/** A stored mask that cannot be exported as it is (not an RLE of its image's size, bad points). */
export class ExportDataError extends Error {
  override name = "ExportDataError";
}

const pointsSchema = z.array(z.tuple([z.number(), z.number()]));

function maskInput(image: ExportImageRow, mask: ExportImageRow["masks"][number]): ExportMaskInput {
  const rle = cocoRleSchema.safeParse(mask.rle);
  if (!rle.success) throw new ExportDataError(`mask ${mask.id} has no valid RLE`);
  const [h, w] = rle.data.size;
  if (h !== image.height || w !== image.width) {
    throw new ExportDataError(`mask ${mask.id} is ${w}x${h} but its image is ${image.width}x${image.height}`);
  }
  const points = pointsSchema.safeParse(mask.pointCoords);
  return {
    rle: rle.data as CocoRle,
    predictedIou: mask.predictedIou,
    stabilityScore: mask.stabilityScore,
    pointCoords: points.success ? points.data : [],
    cropBox: mask.cropBox,
    source: mask.source,
    stage: mask.stage,
    label: mask.label,
  };
}

/**
 * Writes an SA-1B export: tar shards of `sa_<n>.jpg` + `sa_<n>.json` (shardSize images each), the
 * retraining manifest (summary line, then a row per image), the plain file list and optionally COCO
 * JSON. Streams end to end: images come from the database in keyset batches, each shard is piped into
 * the sink as it is written, and the manifest/COCO parts wait in temporary files, so memory does not
 * grow with the project. Image numbers n and annotation ids run from 1 in image-id order, so a rerun of
 * the same export writes the same names.
 */
export async function writeSa1bExport(
  db: PrismaClient,
  originals: BlobStorage,
  sink: ExportSink,
  input: ExportRunInput,
  hooks: ExportRunHooks = {},
): Promise<ExportRunResult> {
  const { filters, options } = input.params;
  const totalImages = await countExportImages(db, input.projectId, filters);
  const manifest = new ManifestBuilder(options.valFraction);
  const categories = new CocoCategories();
  const spool = await Spool.create();
  const files: { name: string; sizeBytes: number }[] = [];
  const shards: string[] = [];
  let shard: {
    writer: TarShardWriter;
    name: string;
    stored: Promise<{ sizeBytes: number }>;
    count: number;
  } | null = null;
  let images = 0;
  let masks = 0;
  let annotationId = 0;

  const closeShard = async () => {
    if (!shard) return;
    const open = shard;
    shard = null;
    open.writer.finish();
    files.push({ name: open.name, sizeBytes: (await open.stored).sizeBytes });
  };

  try {
    for await (const batch of exportImageBatches(db, input.projectId, filters, hooks.batchSize ?? 50)) {
      if (await hooks.shouldStop?.()) throw new ExportCancelledError("the export was cancelled");
      for (const image of batch) {
        const size = releaseSize(image.width, image.height, options.shortestSide);
        const annotations = [];
        const manifestMasks = [];
        for (const mask of image.masks) {
          const record = annotationRecord(maskInput(image, mask), annotationId + 1, size, image);
          if (!record) continue;
          annotationId += 1;
          annotations.push(record);
          manifestMasks.push({
            stage: mask.stage,
            source: mask.source,
            modelVersion: mask.modelVersion,
            activeMs: mask.activeMs,
            reviewDecision: mask.reviewDecision,
          });
        }
        if (annotations.length === 0) continue;
        const n = images + 1;
        if (!shard) {
          const name = shardName(shards.length);
          const writer = new TarShardWriter(input.createdAt);
          shards.push(name);
          const stored = sink.put(name, writer.readable);
          // Surfaced by closeShard or the abort below; never left unhandled meanwhile.
          stored.catch(() => undefined);
          shard = { writer, name, stored, count: 0 };
        }
        const jpeg = await exportJpeg(await originals.get(image.storageKey), size);
        const members = { image: SA1B_MEMBER.image(n), annotations: SA1B_MEMBER.annotations(n) };
        const file: Sa1bExportFile = {
          image: { image_id: n, width: size.width, height: size.height, file_name: members.image },
          annotations,
        };
        try {
          await shard.writer.add(members.image, jpeg);
          await shard.writer.add(members.annotations, Buffer.from(JSON.stringify(file)));
        } catch (error) {
          // A destination that failed (disk full, storage down) ends the archive: report its error.
          await shard.stored;
          throw error;
        }
        const row = manifest.addImage({
          imageId: n,
          sourceImageId: image.id,
          sha256: image.sha256,
          shard: shard.name,
          members,
          width: size.width,
          height: size.height,
          masks: manifestMasks,
        });
        await spool.write("manifest", jsonLine(row));
        if (options.coco) {
          await spool.write(
            "coco-images",
            `${images === 0 ? "" : ","}${JSON.stringify({ id: n, file_name: members.image, width: size.width, height: size.height })}`,
          );
          for (const a of annotations) {
            await spool.write(
              "coco-annotations",
              `${masks === 0 && a === annotations[0] ? "" : ","}${JSON.stringify(cocoAnnotation(a, n, categories))}`,
            );
          }
        }
        images += 1;
        masks += annotations.length;
        shard.count += 1;
        if (shard.count >= options.shardSize) await closeShard();
      }
      await hooks.onProgress?.({ totalImages, doneImages: images, masks });
    }
    await closeShard();

    const summary = manifest.summary({
      exportId: input.exportId,
      project: input.projectName,
      createdAt: input.createdAt.toISOString(),
      params: JSON.parse(JSON.stringify(input.params)) as Record<string, unknown>,
      shards,
    });
    const rows = await spool.read("manifest");
    files.push({
      name: MANIFEST_NAME,
      ...(await sink.put(MANIFEST_NAME, Readable.from(concat([jsonLine(summary)], rows)))),
    });
    files.push({
      name: FILE_LIST_NAME,
      ...(await sink.put(FILE_LIST_NAME, Readable.from(fileList(images)))),
    });
    if (options.coco) {
      const [cocoImages, cocoAnnotations] = await Promise.all([
        spool.read("coco-images"),
        spool.read("coco-annotations"),
      ]);
      const info = JSON.stringify({ description: `${input.projectName} (SA-1B export ${input.exportId})` });
      const parts = concat(
        [`{"info":${info},"images":[`],
        cocoImages,
        ['],"annotations":['],
        cocoAnnotations,
        [`],"categories":${JSON.stringify(categories.list())}}`],
      );
      files.push({ name: COCO_NAME, ...(await sink.put(COCO_NAME, Readable.from(parts))) });
    }
    return { images, masks, sizeBytes: files.reduce((sum, f) => sum + f.sizeBytes, 0), files };
  } catch (error) {
    const open = shard as { writer: TarShardWriter; stored: Promise<unknown> } | null;
    if (open) {
      open.writer.abort(error instanceof Error ? error : new Error(String(error)));
      await open.stored.catch(() => undefined);
    }
    throw error;
  } finally {
    await spool.dispose();
  }
}

/** Strings and streams one after the other, as one stream of chunks. */
async function* concat(...parts: (readonly string[] | Readable)[]): AsyncGenerator<string | Buffer> {
  for (const part of parts) {
    if (part instanceof Readable) for await (const chunk of part) yield chunk as Buffer;
    else yield* part;
  }
}

/** `sa_1.jpg` ... `sa_<count>.jpg`, one per line. */
function* fileList(count: number): Generator<string> {
  for (let n = 1; n <= count; n++) yield `${SA1B_MEMBER.image(n)}\n`;
}
