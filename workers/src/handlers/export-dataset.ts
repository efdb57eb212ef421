import {
  claimExport,
  completeExport,
  exportIsCancelled,
  exportKeyPrefix,
  failExport,
  prisma,
  recordExportProgress,
} from "@sas/db";
import { ExportCancelledError, ExportDataError, storageSink, writeSa1bExport } from "@sas/db/export";
import { exportDatasetJob } from "@sas/queue";
import { storage } from "@sas/storage";
import { UnrecoverableError } from "bullmq";
import { defineHandler } from "../handler";

/**
 * Runs one SA-1B export into storage (`exports/<exportId>/`). Progress goes to the Job row (and BullMQ)
 * after every batch; the row is checked for a cancel between batches. A retry claims the export again
 * and rewrites every file under the same keys, so a failed attempt leaves nothing that a later one does
 * not replace. Stored data that cannot be exported (a mask of the wrong size) fails the export at once.
 */
export const exportDatasetHandler = defineHandler({
  definition: exportDatasetJob,
  async run({ exportId }, { log, progress }) {
    const db = prisma();
    const claimed = await claimExport(db, exportId);
    if (!claimed) return { skipped: "the export was cancelled, finished or deleted" };
    const blobs = storage();
    try {
      const result = await writeSa1bExport(
        db,
        blobs,
        storageSink(blobs, exportKeyPrefix(exportId)),
        claimed,
        {
          shouldStop: () => exportIsCancelled(db, exportId),
          onProgress: async (p) => {
            await recordExportProgress(db, exportId, p);
            await progress(p.totalImages > 0 ? p.doneImages / p.totalImages : 0);
          },
        },
      );
      const completed = await completeExport(db, exportId, result);
      log.info(
        { exportId, images: result.images, masks: result.masks, bytes: result.sizeBytes },
        "export done",
      );
      return completed ? { images: result.images, masks: result.masks } : { skipped: "cancelled at the end" };
    } catch (error) {
      if (error instanceof ExportCancelledError) {
        log.info({ exportId }, "export cancelled");
        return { cancelled: true };
      }
      if (error instanceof ExportDataError) throw new UnrecoverableError(error.message);
      throw error;
    }
  },
  async onFinalFailure({ exportId }, error) {
    await failExport(prisma(), exportId, error.message);
  },
});
