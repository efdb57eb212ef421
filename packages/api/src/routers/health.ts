import { env } from "@sas/config";
import { checkDatabase } from "@sas/db";
import { pingRedis, queue, withRedisTimeout } from "@sas/queue";
import { publicProcedure, router } from "../trpc";

interface Probe {
  ok: boolean;
  latencyMs: number | null;
}

async function probe(run: () => Promise<{ latencyMs: number }>): Promise<Probe> {
  try {
    const { latencyMs } = await run();
    return { ok: true, latencyMs: Math.round(latencyMs * 10) / 10 };
  } catch {
    return { ok: false, latencyMs: null };
  }
}

/** Workers listening on the embed queue (every worker process does, unless WORKER_QUEUES leaves it out). */
async function connectedWorkers(): Promise<{ ok: boolean; count: number | null }> {
  try {
    const count = await withRedisTimeout(queue("embed").getWorkersCount(), "counting workers", 2000);
    return { ok: count > 0, count };
  } catch {
    return { ok: false, count: null };
  }
}

export const healthRouter = router({
  /**
   * Each part for real: this web process (it answered), the database (a read), Redis (a ping) and the
   * workers (how many are connected to the embed queue). Reveals only whether each answered, and how fast.
   */
  check: publicProcedure.query(async ({ ctx }) => {
    const [database, redis, workers] = await Promise.all([
      probe(() => checkDatabase(ctx.db)),
      probe(() => pingRedis(env().REDIS_URL)),
      connectedWorkers(),
    ]);
    return {
      ok: database.ok && redis.ok,
      web: { ok: true },
      database,
      redis,
      workers,
      checkedAt: new Date(),
    };
  }),
});
