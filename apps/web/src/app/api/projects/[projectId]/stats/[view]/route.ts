import { binaryRoute, jsonError, requireUser, statsCsvDownload } from "@sas/api/http";
import { prisma } from "@sas/db";
import { z } from "zod";

export const dynamic = "force-dynamic";

/**
 * The per-mask table behind a statistics view as CSV (`GET /api/projects/:projectId/stats/:view`, view
 * timing | throughput | review | dataset, filters in the query string as the dashboard's). The project's
 * managers and admins.
 */
const paramsSchema = z.object({ projectId: z.uuid(), view: z.string() });

export const GET = binaryRoute(
  async (req: Request, context: { params: Promise<{ projectId: string; view: string }> }) => {
    const parsed = paramsSchema.safeParse(await context.params);
    if (!parsed.success) return jsonError(404, "project not found");
    const user = await requireUser(req);
    const { filename, body } = await statsCsvDownload(
      prisma(),
      user,
      parsed.data.projectId,
      parsed.data.view,
      new URL(req.url).searchParams,
    );
    return new Response(body, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${filename}"`,
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  },
);
