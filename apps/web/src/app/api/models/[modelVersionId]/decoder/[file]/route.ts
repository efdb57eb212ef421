import { readFile } from "node:fs/promises";
import { binaryRoute, browserDecoderFile, jsonError, requireUser } from "@sas/api/http";
import { prisma } from "@sas/db";
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
 */
export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ modelVersionId: string; file: string }> }) => {
    const parsed = params.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "model file not found");
    const user = await requireUser(req);
    const model = await browserDecoderFile(prisma(), user, parsed.data.modelVersionId, parsed.data.file);
    const headers = {
      "Content-Type": "application/octet-stream",
      "Cache-Control": "private, max-age=31536000, immutable",
      ETag: model.etag,
      "Cross-Origin-Resource-Policy": "same-origin",
    };
    if (req.headers.get("if-none-match") === model.etag) return new Response(null, { status: 304, headers });
    return new Response(new Uint8Array(await readFile(model.path)), { headers });
  },
);
