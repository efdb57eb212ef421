import pg from "pg";

export interface ScratchDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops it (forcing out leftover connections); safe to call more than once. */
  drop(): Promise<void>;
}

/**
 * A new, empty database on the server `serverUrl` points at (any database of that server; the admin
 * connection uses `postgres`), for tests and benchmarks that must not touch anyone's data.
 */
export async function createScratchDatabase(
  serverUrl: string,
  prefix = "sas_scratch",
): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  return {
    url: url.toString(),
    drop() {
      dropped ??= admin
        .query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        .then(() => undefined)
        .finally(() => admin.end().catch(() => {}));
      return dropped;
    },
  };
}

/** A throwaway database on the test server, for tests that need an empty or specially built one. */
export async function withScratchDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL;
  if (!adminUrl) throw new Error("withScratchDatabase runs only under the integration global setup");
  const db = await createScratchDatabase(adminUrl);
  try {
    return await run(db.url);
  } finally {
    await db.drop();
  }
}
