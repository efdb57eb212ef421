import { randomUUID } from "node:crypto";
import { appRouter, createContext, MAX_BATCH_SIZE, trpcBodyLimit } from "@sas/api";
import { readBodyWithLimit } from "@sas/api/http";
import { isCrossOrigin } from "@sas/auth";
import { logger } from "@sas/config";
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";

export const dynamic = "force-dynamic";

const ENDPOINT = "/api/trpc";

/** `/api/trpc/a.b,c.d` -> ["a.b", "c.d"]. */
const procedurePaths = (url: URL) => decodeURIComponent(url.pathname.slice(ENDPOINT.length + 1)).split(",");

/** JSON answers below this size are sent as they are, not gzipped (see `unzippedIfSmall`). */
const UNCOMPRESSED_BELOW_BYTES = 4096;

/**
 * A whole JSON answer (every call here but subscriptions and streamed batches, which stay streams) below
 * UNCOMPRESSED_BELOW_BYTES is marked `no-transform`, which Next's compression honours. Next gzips every
 * route handler's answer whatever its size (its 1 KB threshold needs a Content-Length, and it sends route
 * answers chunked, dropping one set here), and a gzip stream set up per call cost more CPU and garbage
 * than it saved on the few hundred bytes to few kilobytes most annotation calls return. Bigger answers
 * (an image's masks) are still gzipped.
 */
async function unzippedIfSmall(response: Response): Promise<Response> {
  const { headers: sent } = response;
  // A streamed batch (application/jsonl accepted) is JSON too, but chunked: its parts go out as they are ready.
  if (
    !response.body ||
    !sent.get("content-type")?.startsWith("application/json") ||
    sent.has("transfer-encoding")
  ) {
    return response;
  }
  const body = await response.arrayBuffer();
  if (body.byteLength >= UNCOMPRESSED_BELOW_BYTES) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: sent });
  }
  const headers = new Headers(sent);
  headers.append("cache-control", "no-transform");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

async function handle(req: Request, refusal?: TRPCError): Promise<Response> {
  const response = await fetchRequestHandler({
    endpoint: ENDPOINT,
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    // A refused request still answers in tRPC's own envelope (one error per call of a batch), so the
    // browser client reads its code and message like any other.
    createContext: () => {
      if (refusal) throw refusal;
      return createContext({ headers: req.headers });
    },
    onError({ error, path, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        logger("api").error({ path, reqId: ctx?.reqId, err: error.cause ?? error }, "procedure failed");
      }
    },
  });
  return unzippedIfSmall(response);
}

/**
 * Every tRPC call. Before tRPC sees a POST: it must come from this site, and its body may be no larger
 * than its procedures need (trpcBodyLimit); a refused one is answered without reading the rest, on a
 * connection that then closes (the unread body would otherwise be taken for the next request).
 */
async function handler(incoming: Request): Promise<Response> {
  const headers = new Headers(incoming.headers);
  if (!headers.has("x-request-id")) headers.set("x-request-id", randomUUID());
  if (incoming.method !== "POST") return handle(new Request(incoming, { headers }));

  const withoutBody = (error: TRPCError) =>
    handle(new Request(incoming.url, { method: "POST", headers, body: "{}" }), error);
  if (isCrossOrigin(headers)) {
    return withoutBody(new TRPCError({ code: "FORBIDDEN", message: "requests must come from this site" }));
  }
  const limit = trpcBodyLimit(procedurePaths(new URL(incoming.url)));
  const declared = Number(headers.get("content-length") ?? 0);
  const body = declared > limit ? null : await readBodyWithLimit(incoming, limit);
  if (body === null) {
    const response = await withoutBody(
      new TRPCError({
        code: "PAYLOAD_TOO_LARGE",
        message: `the request body is larger than the ${Math.round(limit / 1024 / 1024)} MB this call allows`,
      }),
    );
    response.headers.set("connection", "close");
    return response;
  }
  headers.delete("content-length");
  return handle(new Request(incoming.url, { method: "POST", headers, body: new Uint8Array(body) }));
}

export { handler as GET, handler as POST };
