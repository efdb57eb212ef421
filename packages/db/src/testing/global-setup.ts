import { Redis } from "ioredis";
import pg from "pg";
import { migrate } from "../migrate";

/**
 * Integration tests get a database of their own, created fresh and migrated with the real runner, and
 * their own Redis logical database, flushed first. The server comes from DATABASE_URL / REDIS_URL.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const server = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  const name = `sas_test_${process.pid}_${Date.now()}`;
  const adminUrl = new URL(server);
  adminUrl.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();

  const testUrl = new URL(server);
  testUrl.pathname = `/${name}`;
  process.env.DATABASE_URL = testUrl.toString();
  process.env.TEST_DATABASE_ADMIN_URL = adminUrl.toString();
  await migrate(testUrl.toString());

  const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/14";
  process.env.REDIS_URL = redisUrl;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  redis.disconnect();

  return async () => {
    const teardown = new pg.Client({ connectionString: adminUrl.toString() });
    await teardown.connect();
    await teardown.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await teardown.end();
  };
}
