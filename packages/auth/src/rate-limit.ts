import { createHash } from "node:crypto";
import { env } from "@sas/config";
import { createRedis } from "@sas/queue";

/**
 * Sign-in limits, kept in Redis so every web instance counts the same attempts:
 * - per client address: AUTH_SIGNIN_PER_MINUTE attempts a minute (a fixed one-minute window);
 * - per account: after FREE_FAILURES wrong passwords in a row, each further attempt waits a doubling
 *   delay (1 s, 2 s, 4 s ... up to MAX_BACKOFF_MS). A correct password clears it. Counting happens
 *   before the password is checked, atomically, so a burst of parallel guesses cannot slip in ahead of
 *   the count.
 */
export const FREE_FAILURES = 5;
export const MAX_BACKOFF_MS = 15 * 60_000;
/** Failures older than this no longer count towards the backoff. */
const FAILURE_MEMORY_MS = 60 * 60_000;
const WINDOW_MS = 60_000;

export class RateLimited extends Error {
  override name = "RateLimited";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

type Redis = ReturnType<typeof createRedis>;
let connection: Redis | undefined;
function redis(): Redis {
  connection ??= createRedis(env().REDIS_URL, "producer", { connectionName: "sam-studio:limits" });
  return connection;
}

/** Test hook: the connection goes (and comes back on next use). */
export function closeRateLimits(): void {
  connection?.disconnect();
  connection = undefined;
}

// KEYS[1] counter; ARGV[1] window ms. Returns [count, ms left in the window].
const WINDOW_SCRIPT = `
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}`;

// KEYS[1] failures, KEYS[2] lock; ARGV: free failures, base ms, max ms, memory ms.
// Locked: returns the ms left. Otherwise counts this attempt as a failure until it succeeds, locks the
// account for the next attempt once past the free failures, and returns 0.
const ACCOUNT_SCRIPT = `
local left = redis.call("PTTL", KEYS[2])
if left > 0 then return left end
local n = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
local over = n - tonumber(ARGV[1])
if over >= 0 then
  local wait = math.min(tonumber(ARGV[2]) * (2 ^ over), tonumber(ARGV[3]))
  redis.call("SET", KEYS[2], "1", "PX", math.floor(wait))
end
return 0`;

/** Emails are case-insensitive to better-auth; hashed so Redis never holds the address itself. */
const accountKey = (email: string) =>
  createHash("sha256").update(email.trim().toLowerCase()).digest("hex").slice(0, 32);

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Counts one sign-in attempt from `address` for `email`, or throws RateLimited. Redis errors propagate:
 * while the limit cannot be counted, sign-in is refused rather than left unlimited.
 */
export async function countSignInAttempt(address: string, email: string): Promise<void> {
  const client = redis();
  const [count, windowLeft] = (await client.eval(
    WINDOW_SCRIPT,
    1,
    `sas:limit:signin:address:${address}`,
    WINDOW_MS,
  )) as [number, number];
  if (count > env().AUTH_SIGNIN_PER_MINUTE) {
    throw new RateLimited(
      `too many sign-in attempts from your address; try again in ${seconds(windowLeft)} s`,
      windowLeft,
    );
  }
  const account = accountKey(email);
  const locked = (await client.eval(
    ACCOUNT_SCRIPT,
    2,
    `sas:limit:signin:failures:${account}`,
    `sas:limit:signin:lock:${account}`,
    FREE_FAILURES,
    1000,
    MAX_BACKOFF_MS,
    FAILURE_MEMORY_MS,
  )) as number;
  if (locked > 0) {
    throw new RateLimited(
      `too many wrong passwords for this account; try again in ${seconds(locked)} s`,
      locked,
    );
  }
}

/** A correct password: the account's failures and any wait are forgotten. */
export async function signInSucceeded(email: string): Promise<void> {
  const account = accountKey(email);
  await redis().del(`sas:limit:signin:failures:${account}`, `sas:limit:signin:lock:${account}`);
}
