import { assertCanViewImage, binaryRoute, jsonError, requireUser, webStreamFrom } from "@sas/api/http";
import { logger } from "@sas/config";
import { prisma, storedThumbnail, THUMBNAIL_SIDE } from "@sas/db";
import { BlobNotFoundError, storage } from "@sas/storage";
import { z } from "zod";

export const dynamic = "force-dynamic";

/**
 * An image's stored original (`GET /api/images/:imageId/file`), or with `?variant=thumb` a small upright
 * WebP preview (rendered on its first request, then kept in storage). Originals are content-addressed,
 * so a response never changes: browsers keep it for a year and revalidate with the sha256 as ETag.
 * `private` because access depends on the signed-in user.
 */
const paramsSchema = z.object({ imageId: z.uuid() });
const querySchema = z.object({ variant: z.enum(["original", "thumb"]).default("original") });

export const GET = binaryRoute(async (req: Request, context: { params: Promise<{ imageId: string }> }) => {
  const parsedParams = paramsSchema.safeParse(await context.params);
  if (!parsedParams.success) return jsonError(404, "image not found");
  const query = querySchema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!query.success) return jsonError(400, "variant must be original or thumb");

  const user = await requireUser(req);
  const { image } = await assertCanViewImage(prisma(), user, parsedParams.data.imageId);

  const thumb = query.data.variant === "thumb";
  const etag = thumb ? `"${image.sha256}-thumb${THUMBNAIL_SIDE}"` : `"${image.sha256}"`;
  const headers = new Headers({
    ETag: etag,
    "Cache-Control": "private, max-age=31536000, immutable",
    // Same-origin pages (cross-origin isolated with COEP require-corp) may embed it; nobody else.
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
  });
  if (matchesEtag(req.headers.get("if-none-match"), etag))
    return new Response(null, { status: 304, headers });

  const blobs = storage();
  const missing = () => {
    logger("web").error({ imageId: image.id, key: image.storageKey }, "stored original is missing");
    return jsonError(404, "the stored file is missing");
  };
  if (thumb) {
    // One read when the preview is stored (the usual case for a grid); the original only on the first.
    const preview = await storedThumbnail(blobs, image).catch((error: unknown) => {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    });
    if (!preview) return missing();
    headers.set("Content-Type", "image/webp");
    headers.set("Content-Length", String(preview.byteLength));
    return new Response(new Uint8Array(preview), { headers });
  }
  const stored = await blobs.stat(image.storageKey);
  if (!stored) return missing();
  headers.set("Content-Type", image.mimeType);
  headers.set("Content-Length", String(stored.sizeBytes));
  headers.set("Content-Disposition", `inline; filename*=UTF-8''${encodeURIComponent(image.filename)}`);
  return new Response(webStreamFrom(blobs.stream(image.storageKey)), { headers });
});

/** If-None-Match may list several tags, weak or strong, or `*`. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const value = tag.trim().replace(/^W\//, "");
    return value === "*" || value === etag;
  });
}
