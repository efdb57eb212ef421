import { redactUrl } from "@sas/config";
import { Redis, type RedisOptions } from "ioredis";

/**
 * BullMQ workers block on Redis and must retry forever (`maxRetriesPerRequest: null`); producers in the
 * web app should fail fast instead of queueing commands while Redis is away.
 */
export function createRedis(
  url: string,
  role: "worker" | "producer" = "producer",
  extra: RedisOptions = {},
): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === "worker" ? null : 3,
    enableOfflineQueue: role === "worker",
    connectionName: `sam-studio:${role}`,
    ...extra,
  });
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
