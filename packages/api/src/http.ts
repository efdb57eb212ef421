import { type SessionUser, sessionUser } from "@sas/auth";
import { logger } from "@sas/config";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";

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
  if (error instanceof TRPCError) {
    return Response.json({ error: error.message }, { status: getHTTPStatusCodeFromError(error) });
  }
  logger("api").error({ err: (error as Error).message }, "binary route failed");
  return Response.json({ error: "internal error" }, { status: 500 });
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
