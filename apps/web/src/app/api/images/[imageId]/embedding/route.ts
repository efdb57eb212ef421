import { binaryRoute, embeddingForViewer, jsonError, requireUser } from "@sas/api/http";
import { prisma } from "@sas/db";
import { z } from "zod";

export const dynamic = "force-dynamic";

const params = z.object({ imageId: z.uuid() });
const query = z.object({ model: z.uuid().optional() });

/**
 * The image's embedding as raw little-endian float16 ([1,256,64,64]); the browser's decoder worker
 * fetches it once per image (the ETag lets a later visit revalidate without a download).
 */
export const GET = binaryRoute(async (req: Request, context: { params: Promise<{ imageId: string }> }) => {
  const parsed = params.safeParse(await context.params);
  if (!parsed.success) return jsonError(404, "image not found");
  const { imageId } = parsed.data;
  const { model } = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  const user = await requireUser(req);
  const embedding = await embeddingForViewer(prisma(), user, imageId, model);
  const headers = {
    "Content-Type": "application/octet-stream",
    "Cache-Control": "private, max-age=86400",
    ETag: embedding.etag,
    "X-Embedding-Dtype": embedding.dtype,
    "X-Embedding-Shape": embedding.shape.join(","),
    "X-Image-Size": `${embedding.imageWidth},${embedding.imageHeight}`,
    "X-Model-Version": embedding.modelVersionId,
    "Cross-Origin-Resource-Policy": "same-origin",
  };
  if (req.headers.get("if-none-match") === embedding.etag)
    return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(embedding.bytes), { status: 200, headers });
});
