import { isCrossOrigin as isCrossOriginRequest, type SessionUser, sessionUser } from "@sas/auth";
import { logger } from "@sas/config";
import type { BlobStorage } from "@sas/storage";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { ZodError, z } from "zod";
import { parseRange } from "./byte-range";
import { outageOf } from "./errors";
import { webStreamFrom } from "./web-stream";

/**
 * Binary routes (images, embeddings, exports) live outside tRPC but share its rules: the same session
 * check, the same access helpers throwing TRPCError, and the same status codes.
 */
export async function requireUser(req: Request): Promise<SessionUser> {
  const user = await sessionUser(req.headers);
  if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return user;
}

export function errorResponse(error: unknown): Response {
  if (error instanceof TRPCError) return jsonError(getHTTPStatusCodeFromError(error), error.message);
  if (error instanceof ZodError) return jsonError(400, z.prettifyError(error));
  const outage = outageOf(error);
  if (outage) {
    logger("api").warn({ err: (error as Error).message, outage }, "binary route met an outage");
    return jsonError(
      503,
      `the ${outage === "redis" ? "job queue (Redis)" : "database"} is not answering; try again in a moment`,
    );
  }
  logger("api").error({ err: error }, "binary route failed");
  return jsonError(500, "internal error");
}

/** Wraps a route handler so thrown access errors become JSON error responses. */
export function binaryRoute<Args extends unknown[]>(
  handler: (req: Request, ...args: Args) => Promise<Response>,
): (req: Request, ...args: Args) => Promise<Response> {
  return async (req, ...args) => {
    try {
      return await handler(req, ...args);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/** Every error body of the binary routes has this shape, so clients read one field. */
export function jsonError(status: number, error: string, extra: Record<string, unknown> = {}): Response {
  return Response.json({ error, ...extra }, { status });
}

/** A state-changing request a page on another site started (see @sas/auth origin.ts): refuse it. */
export function isCrossOrigin(req: Request): boolean {
  return isCrossOriginRequest(req.headers);
}

/**
 * Reads a request body into memory, giving up (null) as soon as it passes `limit` bytes: Content-Length
 * can be absent (chunked uploads) or wrong, so the count is kept while reading too.
 */
export async function readBodyWithLimit(req: Request, limit: number): Promise<Buffer | null> {
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A stored blob of `size` bytes as a download answering HTTP Range (RFC 9110): the whole file (200), one
 * range (206 with Content-Range) or 416 for a range outside it, streamed from storage. `headers` carries
 * the route's own headers (type, caching, disposition) and receives the length ones.
 */
export function storedBlobResponse(
  blobs: BlobStorage,
  key: string,
  size: number,
  rangeHeader: string | null,
  headers: Headers,
): Response {
  const range = parseRange(rangeHeader, size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const whole = range === "none";
  if (!whole) headers.set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  headers.set("Content-Length", String(whole ? size : range.end - range.start + 1));
  const body = webStreamFrom(whole ? blobs.stream(key) : blobs.stream(key, range));
  return new Response(body, { status: whole ? 200 : 206, headers });
}
