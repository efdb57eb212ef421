import { logger } from "@sas/config";
import { TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";

/**
 * The cause of a CONFLICT from an optimistic-concurrency check: the version the row is at now, so a
 * client can tell its copy is stale without another read. The error formatter copies it to
 * `error.data.currentVersion`.
 */
export class VersionConflictError extends Error {
  override name = "VersionConflictError";
  constructor(
    message: string,
    readonly currentVersion: number,
  ) {
    super(message);
  }
}

const OUTAGE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
]);
/** Prisma's codes for "cannot reach / lost / timed out talking to the database". */
const PRISMA_OUTAGE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const DRIVER_OUTAGE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);
/** What ioredis says when a command meets a missing connection (timeouts, no stream, closed). */
const REDIS_OUTAGE = /Command timed out|Stream isn't writeable|Connection is closed|Redis did not answer/;
/** What pg and Prisma say when the database is away. */
const DATABASE_OUTAGE =
  /timeout exceeded when trying to connect|Connection terminated|Can't reach database server/i;

/**
 * Which backing service an error says is unreachable, or null when it is something else. Walks the
 * cause chain: Prisma wraps the driver's error, ioredis and pg report sockets.
 */
export function outageOf(error: unknown): "database" | "redis" | null {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const { name, code, message, cause } = e as {
      name?: string;
      code?: unknown;
      message?: string;
      cause?: unknown;
    };
    const kind = (cause as { kind?: string } | undefined)?.kind ?? (e as { kind?: string }).kind;
    if (name === "RedisUnavailableError" || name === "MaxRetriesPerRequestError") return "redis";
    if (REDIS_OUTAGE.test(message ?? "")) return "redis";
    if (name === "PrismaClientInitializationError") return "database";
    if (typeof code === "string" && PRISMA_OUTAGE_CODES.has(code)) return "database";
    if (kind && DRIVER_OUTAGE_KINDS.has(kind)) return "database";
    if (typeof code === "string" && OUTAGE_CODES.has(code)) return "database";
    if (DATABASE_OUTAGE.test(message ?? "")) return "database";
    e = cause;
  }
  return null;
}

/** While a service stays away, one log line per this long (with how many failures it stood for). */
const OUTAGE_LOG_INTERVAL_MS = 10_000;
const outageLog = new Map<string, { at: number; suppressed: number }>();

function logOutage(kind: string, details: Record<string, unknown>): void {
  const now = Date.now();
  const last = outageLog.get(kind);
  if (last && now - last.at < OUTAGE_LOG_INTERVAL_MS) {
    last.suppressed += 1;
    return;
  }
  logger("api").error({ ...details, suppressed: last?.suppressed ?? 0 }, `${kind} unreachable`);
  outageLog.set(kind, { at: now, suppressed: 0 });
}

const OUTAGE_MESSAGES = {
  database: "the database is not answering; nothing was changed, try again in a moment",
  redis: "the job queue (Redis) is not answering; try again in a moment",
} as const;

/**
 * A procedure's failure caused by an unreachable database or Redis, as SERVICE_UNAVAILABLE (503) with a
 * message that says so; clients (the annotation outbox) retry those. Logged at most every 10 s per service.
 */
export function outageError(error: TRPCError, where: Record<string, unknown>): TRPCError | null {
  if (error.code !== "INTERNAL_SERVER_ERROR") return null;
  const kind = outageOf(error.cause ?? error);
  if (!kind) return null;
  logOutage(kind, { ...where, err: (error.cause ?? error).message });
  return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: OUTAGE_MESSAGES[kind], cause: error.cause });
}

/**
 * The message a client may see: an unexpected error's own text (a database message, a file path) never,
 * only the request id to find it in the log; a refused input as readable lines, not zod's JSON.
 */
export function clientMessage(error: TRPCError, reqId: string | undefined): string {
  if (error.code === "INTERNAL_SERVER_ERROR") {
    return `something went wrong on the server${reqId ? ` (request ${reqId})` : ""}`;
  }
  if (error.cause instanceof ZodError) return z.prettifyError(error.cause);
  return error.message;
}
