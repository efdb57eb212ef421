/**
 * The web process: Next's request handler behind a small Node HTTP server of our own (the launcher runs
 * this instead of `next start`). It owns two things Next cannot do from a route handler:
 * - the client's address, taken from the socket (or, through a configured trusted proxy, from the right
 *   entry of X-Forwarded-For) and handed to routes in one header that clients cannot set;
 * - connections whose request body was not read (a 413 before the upload was consumed) are closed after
 *   the response, so the unread bytes are never taken for the next request on a kept-alive connection.
 *
 * With WEB_PROCESSES > 1 it runs that many processes sharing the port (node:cluster): the first process
 * (the primary) only forks and watches them; each worker prepares Next and listens. Nothing a request
 * needs lives in one process's memory alone (sessions, rate limits and live mask events are in the
 * database and Redis), so any process can answer any request.
 */
import cluster, { type Worker } from "node:cluster";
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

/**
 * Names the web process that answered (its cluster worker number, 1, 2, ...; a restarted process gets
 * the next number) when several share the port: which process served a request is then visible when
 * diagnosing one. A small counter, not a pid: it tells a client nothing about the host.
 */
export const WEB_PROCESS_HEADER = "x-sas-web-process";

export function createFrontServer(
  inner: Handler,
  trustedProxies: readonly string[],
  options: { processNumber?: number } = {},
): http.Server {
  const handler = frontHandler(inner, trustedProxyList(trustedProxies));
  const { processNumber } = options;
  if (processNumber === undefined) return http.createServer(handler);
  const value = String(processNumber);
  return http.createServer((req, res) => {
    res.setHeader(WEB_PROCESS_HEADER, value);
    return handler(req, res);
  });
}

/** A web process that stayed up this long is healthy again: its next crash restarts it at once. */
const HEALTHY_AFTER_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The primary of several web processes: forks `count` workers, restarts one that dies (crash, OOM kill)
 * with the launcher's backoff (0.5 s, 1 s, 2 s ... 30 s while it keeps failing fast; the others keep
 * serving meanwhile), and on SIGTERM/SIGINT stops them all and exits once they have.
 */
function runPrimary(count: number): void {
  const log = logger("web");
  let stopping = false;
  const slots = Array.from({ length: count }, () => ({ restarts: 0, startedAt: 0 }));
  const live = new Set<Worker>();
  const fork = (slot: number) => {
    const worker = cluster.fork();
    slots[slot]!.startedAt = Date.now();
    live.add(worker);
    worker.once("exit", (code, signal) => {
      live.delete(worker);
      if (stopping) {
        if (live.size === 0) process.exit(0);
        return;
      }
      const state = slots[slot]!;
      if (Date.now() - state.startedAt > HEALTHY_AFTER_MS) state.restarts = 0;
      const delay = Math.min(500 * 2 ** state.restarts, MAX_RESTART_DELAY_MS);
      state.restarts += 1;
      log.error(
        { process: worker.id, workerPid: worker.process.pid, code, signal, restartInMs: delay },
        "web process exited; restarting it",
      );
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay);
    });
  };
  for (let slot = 0; slot < count; slot++) fork(slot);
  log.info({ processes: count }, "web processes started");
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) process.exit(0);
    for (const worker of live) worker.process.kill("SIGTERM");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function main(): Promise<void> {
  const config = env();
  if (config.WEB_PROCESSES > 1 && cluster.isPrimary) return runPrimary(config.WEB_PROCESSES);
  await serve();
}

/** One web process: Next behind the front server. */
async function serve(): Promise<void> {
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
  const processNumber = cluster.isWorker ? cluster.worker?.id : undefined;
  const server = createFrontServer(app.getRequestHandler(), config.TRUSTED_PROXIES, { processNumber });
  server.listen(config.PORT, config.HOST, () =>
    log.info({ port: config.PORT, process: processNumber }, "web server ready"),
  );
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
