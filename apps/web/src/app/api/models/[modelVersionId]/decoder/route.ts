import { binaryRoute, browserDecoderGraphs, jsonError, requireUser } from "@sas/api/http";
import { prisma } from "@sas/db";
import { z } from "zod";

export const dynamic = "force-dynamic";

const params = z.object({ modelVersionId: z.uuid() });

/**
 * The decoder graphs of a model version as the annotation page's worker loads them: per part its
 * content-named URL, sha256 and size (for the progress bar and the browser's cache, keyed by the hash).
 * Revalidated on every visit (cheap, a few hundred bytes); the graphs themselves are immutable.
 */
export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ modelVersionId: string }> }) => {
    const parsed = params.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "model version not found");
    const user = await requireUser(req);
    const graphs = await browserDecoderGraphs(prisma(), user, parsed.data.modelVersionId);
    return Response.json(
      { graphs },
      { headers: { "Cache-Control": "private, no-cache", "Cross-Origin-Resource-Policy": "same-origin" } },
    );
  },
);
