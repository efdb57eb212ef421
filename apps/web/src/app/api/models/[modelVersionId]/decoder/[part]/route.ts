import { readFile } from "node:fs/promises";
import { binaryRoute, browserDecoderFile, jsonError, requireUser } from "@sas/api/http";
import { prisma } from "@sas/db";
import { BROWSER_DECODER_PARTS } from "@sas/sam";
import { z } from "zod";

export const dynamic = "force-dynamic";

const params = z.object({ modelVersionId: z.uuid(), part: z.enum(BROWSER_DECODER_PARTS) });

/** One of the decoder graphs (prepare / click / refine) the annotation page's worker runs for a model version. */
export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ modelVersionId: string; part: string }> }) => {
    const parsed = params.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "model file not found");
    const user = await requireUser(req);
    const model = await browserDecoderFile(prisma(), user, parsed.data.modelVersionId, parsed.data.part);
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
