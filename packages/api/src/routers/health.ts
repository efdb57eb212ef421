import { env } from "@sas/config";
import { checkDatabase } from "@sas/db";
import { pingRedis } from "@sas/queue";
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

export const healthRouter = router({
  /** Reads the database and pings Redis for real; reveals only whether each answered, and how fast. */
  check: publicProcedure.query(async ({ ctx }) => {
    const [database, redis] = await Promise.all([
      probe(() => checkDatabase(ctx.db)),
      probe(() => pingRedis(env().REDIS_URL)),
    ]);
    return { ok: database.ok && redis.ok, database, redis, checkedAt: new Date() };
  }),
});
