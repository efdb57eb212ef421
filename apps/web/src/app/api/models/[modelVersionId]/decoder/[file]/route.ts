import { binaryRoute, browserDecoderFile, jsonError, requireUser, storedBlobResponse } from "@sas/api/http";
import { prisma } from "@sas/db";
import { storage } from "@sas/storage";
import { z } from "zod";

export const dynamic = "force-dynamic";

/** `<derivation>-<part>-<sha256>.onnx`, as listed by the version's decoder manifest (../route.ts). */
const params = z.object({
  modelVersionId: z.uuid(),
  file: z.string().regex(/^[a-z0-9-]+-[0-9a-f]{64}\.onnx$/),
});

/**
 * One decoder graph (prepare / click / refine) the annotation page's worker runs, by a name that carries
 * the sha256 of its bytes: the same URL always means the same bytes, so browsers keep it for a year.
 * Streamed from blob storage (where the first process to need it stored it, see `browserDecoderFile`),
 * with its hash as ETag (304 on a match) and single-range requests (206, 416), as the export route.
 */
export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ modelVersionId: string; file: string }> }) => {
    const parsed = params.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "model file not found");
    const user = await requireUser(req);
    const { modelVersionId, file } = parsed.data;
    let model = await browserDecoderFile(prisma(), user, modelVersionId, file);
    const headers = new Headers({
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
      "Cache-Control": "private, max-age=31536000, immutable",
      ETag: model.etag,
      "Cross-Origin-Resource-Policy": "same-origin",
    });
    if (req.headers.get("if-none-match") === model.etag) return new Response(null, { status: 304, headers });
    const blobs = storage();
    if ((await blobs.stat(model.key))?.sizeBytes !== model.bytes) {
      // Gone from storage since this process last looked: stored again (same bytes, same name).
      model = await browserDecoderFile(prisma(), user, modelVersionId, file, { refresh: true });
    }
    const size = model.bytes;
    return storedBlobResponse(blobs, model.key, size, req.headers.get("range"), headers);
  },
);
