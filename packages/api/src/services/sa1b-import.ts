import type { Logger } from "@sas/config";
import {
  ImageRejectedError,
  type ImportedMaskInput,
  importImageWithMasks,
  MaskDomainError,
  modelVersionForProject,
  type PrismaClient,
  type ProbedImage,
  probeImage,
} from "@sas/db";
import { enqueueEmbedding } from "@sas/queue";
import { SA1B_DEFAULT_SOURCE, SA1B_DEFAULT_STAGE, type Sa1bExportFile } from "@sas/sa1b";
import { openSa1bSource, type Sa1bPair, Sa1bSourceError } from "@sas/sa1b/import";
import type { BlobStorage } from "@sas/storage";

export { Sa1bSourceError };

/** A file that was not imported (nothing of it is in the database), and why. */
export interface Sa1bImportFailure {
  /** The folder or archive, as given. */
  source: string;
  /** `sa_12.json`, `sa_7.jpg`, or the archive's name for damage to the archive itself. */
  file: string;
  error: string;
}

export interface Sa1bImportSummary {
  /** New images (with their masks). */
  imagesImported: number;
  /** Images the project had already (same bytes): not stored again; any new masks were added to them. */
  imagesDuplicate: number;
  failed: Sa1bImportFailure[];
  masksImported: number;
  /** Masks whose pixels the image already had (an earlier import of the same file, typically). */
  masksDuplicate: number;
  /** Embedding jobs asked for (new images, and known ones still waiting for theirs); why not, if not. */
  embeddings: { requested: number; notRequested: string | null };
}

export interface Sa1bImportOptions {
  db: PrismaClient;
  blobs: BlobStorage;
  projectId: string;
  /** Folders of loose `sa_*.json` + images, and `.tar` (or `.tar.gz`) shards, in order. */
  paths: string[];
  /** One line per file as it is handled. */
  onProgress?: (line: string) => void;
  log?: Logger;
}

/** The mask domain's input for each annotation: the file's scores, points and crop box, and its origin. */
export function importedMasks(file: Sa1bExportFile): ImportedMaskInput[] {
  return file.annotations.map((annotation) => ({
    rle: annotation.segmentation,
    predictedIou: annotation.predicted_iou,
    stabilityScore: annotation.stability_score,
    pointCoords: annotation.point_coords,
    cropBox: annotation.crop_box,
    label: annotation.label ?? "",
    // A public SA-1B file names neither: its masks came from SAM's fully automatic stage.
    source: annotation.source ?? SA1B_DEFAULT_SOURCE,
    stage: annotation.stage ?? SA1B_DEFAULT_STAGE,
  }));
}

/** Uploads' own checks (a whole, decodable, sensibly sized image), reported as the reason alone. */
async function probeForImport(fileName: string, bytes: Uint8Array): Promise<ProbedImage> {
  try {
    return await probeImage(fileName, bytes);
  } catch (error) {
    if (error instanceof ImageRejectedError) throw new Error(error.reason);
    throw error;
  }
}

/**
 * Checks every path first (Sa1bSourceError, before anything is written, when one cannot be read), then
 * imports each valid pair as one transaction (image + masks; see importImageWithMasks) and reports every
 * other file with its error. Each new image's embedding is requested as soon as it is committed,
 * the way uploads request theirs.
 */
export async function importSa1b(options: Sa1bImportOptions): Promise<Sa1bImportSummary> {
  const { db, blobs, projectId } = options;
  const print = options.onProgress ?? (() => {});
  const summary: Sa1bImportSummary = {
    imagesImported: 0,
    imagesDuplicate: 0,
    failed: [],
    masksImported: 0,
    masksDuplicate: 0,
    embeddings: { requested: 0, notRequested: null },
  };
  const readOptions = { probeImage: probeForImport };
  const sources = [];
  for (const sourcePath of options.paths) sources.push(await openSa1bSource(sourcePath, readOptions));

  const embeddings = embeddingRequests(db, projectId, summary, options.log);
  const fail = (failure: Sa1bImportFailure) => {
    summary.failed.push(failure);
    print(`failed     ${failure.file}: ${failure.error}`);
  };
  const importPair = async (pair: Sa1bPair<ProbedImage>) => {
    try {
      const result = await importImageWithMasks(db, blobs, {
        projectId,
        filename: pair.imageFile,
        bytes: pair.imageBytes,
        probed: pair.probed,
        masks: importedMasks(pair.file),
      });
      summary.masksImported += result.masks.inserted;
      summary.masksDuplicate += result.masks.duplicates;
      const masks = `${result.masks.inserted} mask${result.masks.inserted === 1 ? "" : "s"}${result.masks.duplicates ? `, ${result.masks.duplicates} already there` : ""}`;
      if (result.status === "created") {
        summary.imagesImported += 1;
        print(`imported   ${pair.imageFile} (${pair.probed.width}x${pair.probed.height}, ${masks})`);
      } else {
        summary.imagesDuplicate += 1;
        print(`duplicate  ${pair.imageFile} (same bytes as ${result.image.filename}; ${masks})`);
      }
      // As uploads do: a new image, or a known one whose embedding was never queued, is asked for.
      if (result.status === "created" || result.image.status === "uploaded")
        await embeddings.request(result.image.id);
    } catch (error) {
      // Refusals of the domain rules (a label over its length limit, ...): the transaction wrote nothing.
      if (!(error instanceof MaskDomainError || error instanceof ImageRejectedError)) throw error;
      const reason = error instanceof ImageRejectedError ? error.reason : error.message;
      fail({ source: pair.source, file: pair.annotationsFile, error: reason });
    }
  };

  for (const items of sources) {
    for await (const item of items) {
      if (item.ok) await importPair(item);
      else fail({ source: item.source, file: item.file, error: item.error });
    }
  }
  return summary;
}

/**
 * Asks for each image's embedding with the project's model version, as uploads do (ingest.ts); job
 * ids are (image, version), so asking again is a no-op. With no version active, or the queue
 * unreachable, the images stay "uploaded" (the app asks again for those at start) and the summary
 * says why; the import itself goes on.
 */
function embeddingRequests(db: PrismaClient, projectId: string, summary: Sa1bImportSummary, log?: Logger) {
  let modelVersionId: Promise<string | null> | null = null;
  return {
    async request(imageId: string): Promise<void> {
      if (summary.embeddings.notRequested) return;
      modelVersionId ??= modelVersionForProject(db, projectId).then((version) => version?.id ?? null);
      const version = await modelVersionId;
      if (!version) {
        summary.embeddings.notRequested = "no model version is active; the images wait until one is";
        return;
      }
      try {
        await enqueueEmbedding(imageId, version);
        summary.embeddings.requested += 1;
      } catch (error) {
        log?.error({ err: error, imageId }, "could not queue the embedding");
        summary.embeddings.notRequested = "the embedding queue is unreachable; the images wait until it is";
      }
    },
  };
}

export function formatSa1bSummary(summary: Sa1bImportSummary): string {
  const lines = [
    `images imported ${summary.imagesImported}, skipped as duplicates ${summary.imagesDuplicate}, failed ${summary.failed.length}; masks imported ${summary.masksImported}${summary.masksDuplicate ? ` (${summary.masksDuplicate} already there)` : ""}`,
  ];
  if (summary.embeddings.notRequested)
    lines.push(`Embeddings not requested: ${summary.embeddings.notRequested}.`);
  return lines.join("\n");
}
