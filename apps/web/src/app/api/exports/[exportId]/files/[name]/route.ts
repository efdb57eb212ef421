import {
  binaryRoute,
  exportFileForDownload,
  jsonError,
  requireUser,
  storedBlobResponse,
} from "@sas/api/http";
import { logger } from "@sas/config";
import { prisma } from "@sas/db";
import { storage } from "@sas/storage";
import { z } from "zod";

export const dynamic = "force-dynamic";

/**
 * A file of a completed export (`GET /api/exports/:exportId/files/:name`): a tar shard, the manifest,
 * the file list or the COCO JSON, for the project's managers and admins. Streamed from storage, with
 * single-range requests (206, 416) so large shards can be resumed or fetched in parts.
 */
const paramsSchema = z.object({
  exportId: z.uuid(),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
});

const contentTypes: Record<string, string> = {
  tar: "application/x-tar",
  jsonl: "application/jsonl",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
};

export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ exportId: string; name: string }> }) => {
    const parsed = paramsSchema.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "export file not found");
    const user = await requireUser(req);
    const file = await exportFileForDownload(prisma(), user, parsed.data.exportId, parsed.data.name);

    const blobs = storage();
    const stored = await blobs.stat(file.key);
    if (!stored) {
      logger("web").error({ key: file.key }, "export file is missing from storage");
      return jsonError(404, "the stored file is missing");
    }
    const size = stored.sizeBytes;
    const headers = new Headers({
      "Accept-Ranges": "bytes",
      "Content-Type": contentTypes[file.name.split(".").pop() ?? ""] ?? "application/octet-stream",
      "Content-Disposition": `attachment; filename="${file.name}"`,
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
    });
    return storedBlobResponse(blobs, file.key, size, req.headers.get("range"), headers);
  },
);
