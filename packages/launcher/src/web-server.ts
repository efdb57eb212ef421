/**
 * The web process: Next's request handler behind a small Node HTTP server of our own (the launcher runs
 * this instead of `next start`). It owns two things Next cannot do from a route handler:
 * - the client's address, taken from the socket (or, through a configured trusted proxy, from the right
 *   entry of X-Forwarded-For) and handed to routes in one header that clients cannot set;
 * - connections whose request body was not read (a 413 before the upload was consumed) are closed after
 *   the response, so the unread bytes are never taken for the next request on a kept-alive connection.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { BlockList } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  CLIENT_ADDRESS_HEADER,
  FRONT_SERVER_ENV,
  resolveClientAddress,
  trustedProxyList,
} from "@sas/auth/client-address";
import { env, logger, repoRoot } from "@sas/config";

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Wraps `inner` with the client-address and unread-body rules above. */
export function frontHandler(inner: Handler, trusted: BlockList): Handler {
  return (req, res) => {
    const address = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
    req.headers[CLIENT_ADDRESS_HEADER] = address;
    // Anything downstream that still reads X-Forwarded-For sees the resolved address, not the client's list.
    req.headers["x-forwarded-for"] = address;
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse["writeHead"]>) {
      // Answered before the body was read: say "Connection: close" and close after the response.
      if (!req.complete) this.shouldKeepAlive = false;
      return writeHead.apply(this, args);
    } as ServerResponse["writeHead"];
    return inner(req, res);
  };
}

export function createFrontServer(inner: Handler, trustedProxies: readonly string[]): http.Server {
  return http.createServer(frontHandler(inner, trustedProxyList(trustedProxies)));
}

async function main(): Promise<void> {
  const config = env();
  const log = logger("web");
  process.env[FRONT_SERVER_ENV] = "1";
  const { default: next } = await import("next");
  const app = next({
    dev: false,
    dir: path.join(repoRoot, "apps/web"),
    hostname: config.HOST,
    port: config.PORT,
    customServer: true,
  });
  await app.prepare();
  const server = createFrontServer(app.getRequestHandler(), config.TRUSTED_PROXIES);
  server.listen(config.PORT, config.HOST, () => log.info({ port: config.PORT }, "web server ready"));
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: Error) => {
    process.stderr.write(`error: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
