import {
  binaryRoute,
  isCrossOrigin,
  jsonError,
  MAX_MODEL_FILE_BYTES,
  modelUploadParams,
  registerUploadedModel,
  requireUser,
  stageModelUpload,
} from "@sas/api/http";
import { logger } from "@sas/config";
import { prisma } from "@sas/db";
import { storage } from "@sas/storage";
import { z } from "zod";

export const dynamic = "force-dynamic";

/**
 * Registers a new model version (admins): `POST /api/models?name=…&encoderBytes=N&decoderBytes=M
 * [&encoderSha256=…&decoderSha256=…&activate=1&notes=…]`.
 *
 * The body is the encoder's raw bytes immediately followed by the decoder's (two raw bodies in one
 * request: it streams to disk with no form parser, and XHR reports progress on `new Blob([enc, dec])`).
 * Each file is at most MAX_MODEL_FILE_BYTES. The pair is hashed (optional expected hashes must match),
 * run once on a fixture image, then stored at `models/<sha256>.onnx` and recorded.
 *
 * 201 the version `{id, name, encoderSha256, decoderSha256, isActive, createdAt}` · 400 `{error}` bad
 * parameters, wrong hash, wrong length, or "not a SAM encoder/decoder pair: …" · 401 signed out · 403 not
 * an admin or cross-site · 409 the name or the pair exists · 413 over the size limit.
 */
const contentLengthHeader = z.coerce.number().int().nonnegative().optional();

export const POST = binaryRoute(async (req: Request) => {
  if (isCrossOrigin(req)) return jsonError(403, "uploads must come from this site");
  const user = await requireUser(req);
  if (user.role !== "admin") return jsonError(403, "needs role admin");

  const params = modelUploadParams.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!params.success) {
    const tooBig = params.error.issues.some(
      (i) => i.code === "too_big" && (i.path[0] === "encoderBytes" || i.path[0] === "decoderBytes"),
    );
    if (tooBig) return jsonError(413, `a model file may be at most ${MAX_MODEL_FILE_BYTES / 1024 ** 3} GiB`);
    return jsonError(400, z.prettifyError(params.error));
  }
  const length = contentLengthHeader.safeParse(req.headers.get("content-length") ?? undefined);
  if (!length.success) return jsonError(400, "bad Content-Length");
  if (length.data !== undefined && length.data !== params.data.encoderBytes + params.data.decoderBytes)
    return jsonError(400, "Content-Length is not encoderBytes + decoderBytes");

  const log = logger("web").child({ route: "model-upload", userId: user.id });
  const staged = await stageModelUpload(req.body, params.data);
  try {
    const version = await registerUploadedModel(prisma(), storage(), staged, params.data, log);
    return Response.json(
      {
        id: version.id,
        name: version.name,
        encoderSha256: version.encoderSha256,
        decoderSha256: version.decoderSha256,
        isActive: version.isActive,
        createdAt: version.createdAt,
      },
      { status: 201 },
    );
  } finally {
    await staged.cleanup();
  }
});
