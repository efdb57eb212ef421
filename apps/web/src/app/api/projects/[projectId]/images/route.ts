import {
  assertCanManageProject,
  binaryRoute,
  ingestAndRequestEmbedding,
  isCrossOrigin,
  jsonError,
  MAX_UPLOAD_BYTES,
  readBodyWithLimit,
  requireUser,
} from "@sas/api/http";
import { logger, textProblem } from "@sas/config";
import { ImageRejectedError, prisma } from "@sas/db";
import { storage } from "@sas/storage";
import { z } from "zod";

export const dynamic = "force-dynamic";

/**
 * Upload one image into a project: `POST /api/projects/:projectId/images`.
 *
 * The body is the file's raw bytes (not multipart: the browser streams a File as is, XHR reports upload
 * progress on it, and the server needs no form parser). The name travels URI-encoded in `X-Filename`
 * (headers are ASCII only). Content-Type is not trusted; the bytes are sniffed.
 *
 * 201 `{status: "created", image, embedding}` · 200 `{status: "duplicate", image, embedding}` ·
 * 400 `{error, reason}` for a refused image or a bad request · 401 signed out · 403 not a manager ·
 * 404 no such project (or not a member) · 413 over MAX_UPLOAD_BYTES.
 */
const paramsSchema = z.object({ projectId: z.uuid() });

/** URI-encoded, so a long name with non-ASCII characters is up to 9x its length here. */
const MAX_FILENAME_HEADER = 2048;

const filenameHeader = z
  // Only a missing header is "required": zod 4 would give a schema-wide message to every issue.
  .string({ error: (issue) => (issue.input === undefined ? "the X-Filename header is required" : undefined) })
  .min(1, "the X-Filename header is empty")
  .max(
    MAX_FILENAME_HEADER,
    `the file name is too long (X-Filename may have at most ${MAX_FILENAME_HEADER} characters)`,
  )
  .transform((value, ctx) => {
    let name: string;
    try {
      name = decodeURIComponent(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "the X-Filename header must be URI-encoded" });
      return z.NEVER;
    }
    const problem = textProblem(name);
    if (problem) {
      ctx.addIssue({ code: "custom", message: `the file name ${problem}` });
      return z.NEVER;
    }
    return name;
  });

const contentLengthHeader = z.coerce.number().int().nonnegative().optional();

export const POST = binaryRoute(async (req: Request, context: { params: Promise<{ projectId: string }> }) => {
  const parsedParams = paramsSchema.safeParse(await context.params);
  if (!parsedParams.success) return jsonError(404, "project not found");
  const { projectId } = parsedParams.data;

  if (isCrossOrigin(req)) return jsonError(403, "uploads must come from this site");
  const user = await requireUser(req);
  const db = prisma();
  await assertCanManageProject(db, user, projectId);

  const filename = filenameHeader.safeParse(req.headers.get("x-filename") ?? undefined);
  if (!filename.success) return jsonError(400, filename.error.issues[0]?.message ?? "bad X-Filename");
  const length = contentLengthHeader.safeParse(req.headers.get("content-length") ?? undefined);
  if (!length.success) return jsonError(400, "bad Content-Length");
  // Refuse a declared oversize body before reading any of it; the limit is enforced while reading too.
  if ((length.data ?? 0) > MAX_UPLOAD_BYTES) return tooLarge();
  const bytes = await readBodyWithLimit(req, MAX_UPLOAD_BYTES);
  if (!bytes) return tooLarge();

  const log = logger("web").child({ route: "upload", projectId, userId: user.id });
  try {
    const outcome = await ingestAndRequestEmbedding(
      db,
      storage(),
      { projectId, filename: filename.data, bytes, uploadedById: user.id },
      log,
    );
    log.info({ imageId: outcome.image.id, status: outcome.status }, "image uploaded");
    return Response.json(outcome, { status: outcome.status === "created" ? 201 : 200 });
  } catch (error) {
    if (!(error instanceof ImageRejectedError)) throw error;
    log.info({ filename: error.filename, reason: error.reason }, "image refused");
    return jsonError(400, error.message, { filename: error.filename, reason: error.reason });
  }
});

/** The rest of the body is never read, so the connection closes after this answer (see web-server.ts). */
function tooLarge(): Response {
  const response = jsonError(413, `the file is larger than the ${MAX_UPLOAD_BYTES / 1024 / 1024} MB limit`);
  response.headers.set("connection", "close");
  return response;
}
