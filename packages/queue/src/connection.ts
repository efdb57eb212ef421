import { logger, redactUrl } from "@sas/config";
import { Redis, type RedisOptions } from "ioredis";

/**
 * How long a producer waits for one Redis command (and for a connection) before giving up. Requests must
 * fail inside 5 s while Redis is away, with room for the rest of the request around it.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2500;
/** While Redis stays away, one log line per connection per this long, with how many errors it stood for. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * Logs a connection's errors at most once per ERROR_LOG_INTERVAL_MS. Without a listener ioredis prints a
 * stack trace for every reconnect attempt, which buries the log during an outage.
 */
function logErrorsQuietly(client: Redis, name: string): void {
  let lastLogged = 0;
  let suppressed = 0;
  client.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    logger("redis").warn({ connection: name, err: error.message, suppressed }, "Redis connection error");
    lastLogged = now;
    suppressed = 0;
  });
  client.on("ready", () => {
    if (lastLogged) logger("redis").info({ connection: name }, "Redis connection is back");
    lastLogged = 0;
    suppressed = 0;
  });
}

/**
 * BullMQ workers block on Redis and must retry forever (`maxRetriesPerRequest: null`); producers in the
 * web app fail fast instead: every command has a timeout (including one waiting in the offline queue for
 * a connection, which a fresh client needs for its first command), so a request meets a Redis outage as
 * an error within REDIS_COMMAND_TIMEOUT_MS.
 */
export function createRedis(
  url: string,
  role: "worker" | "producer" = "producer",
  extra: RedisOptions = {},
): Redis {
  const name = extra.connectionName ?? `sam-studio:${role}`;
  const client = new Redis(url, {
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: true,
    connectionName: name,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    ...(role === "producer" ? { commandTimeout: REDIS_COMMAND_TIMEOUT_MS } : {}),
    // Reconnect quickly at first, then every 2 s: a returning Redis is picked up within seconds.
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...extra,
  });
  logErrorsQuietly(client, name);
  return client;
}

/** Rejects with RedisUnavailableError when `work` has not settled within `ms` (BullMQ waits for a connection otherwise). */
export async function withRedisTimeout<T>(
  work: Promise<T>,
  what: string,
  ms = REDIS_COMMAND_TIMEOUT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`Redis did not answer within ${ms} ms (${what})`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** One round trip with a short timeout and no retries: for start-up checks and health. */
export async function pingRedis(url: string, timeoutMs = 2000): Promise<{ latencyMs: number }> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND, auth) on the error event and only
  // "Connection is closed" from connect(); keep the cause for the message.
  let cause: Error | undefined;
  client.on("error", (error: Error) => {
    cause ??= error;
  });
  const started = performance.now();
  try {
    await client.connect();
    await client.ping();
    return { latencyMs: performance.now() - started };
  } catch (error) {
    const reason = (cause ?? (error as Error)).message;
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(url)}: ${reason}`);
  } finally {
    client.disconnect();
  }
}
