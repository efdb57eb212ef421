import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError, migrate, migrationsDir, readMigrations } from "./migrate";
import { withScratchDatabase } from "./testing/scratch-database";

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("migration runner", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "sas-migrate-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("applies every migration once and records it as Prisma does", async () => {
    await withScratchDatabase(async (url) => {
      const files = await readMigrations();
      const first = await migrate(url);
      expect(first.applied).toEqual(files.map((f) => f.name));
      const second = await migrate(url);
      expect(second).toEqual({ applied: [], alreadyApplied: files.length });
      const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        url,
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
      expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
    });
  });

  it("concurrent runners apply each migration exactly once", async () => {
    await withScratchDatabase(async (url) => {
      const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
      const applied = results.flatMap((r) => r.applied);
      expect(applied.sort()).toEqual((await readMigrations()).map((f) => f.name).sort());
    });
  });

  it("a failing migration leaves nothing behind and names itself", async () => {
    const dir = path.join(tmp, "broken");
    await cp(migrationsDir, dir, { recursive: true });
    await mkdir(path.join(dir, "29990101000000_broken"));
    await writeFile(
      path.join(dir, "29990101000000_broken", "migration.sql"),
      `CREATE TABLE "Half" ("id" INTEGER);\nALTER TABLE "Nope" ADD COLUMN "x" INTEGER;`,
    );
    await withScratchDatabase(async (url) => {
      await expect(migrate(url, dir)).rejects.toThrow(/29990101000000_broken failed: .*"Nope"/);
      const half = await query(url, `SELECT 1 FROM pg_class WHERE relname = 'Half'`);
      expect(half).toHaveLength(0);
      // Earlier migrations stay applied; fixing the file lets the next start finish the job.
      await writeFile(
        path.join(dir, "29990101000000_broken", "migration.sql"),
        `CREATE TABLE "Half" ("id" INTEGER);`,
      );
      expect((await migrate(url, dir)).applied).toEqual(["29990101000000_broken"]);
    });
  });

  it("refuses a migration edited after it was applied", async () => {
    const dir = path.join(tmp, "edited");
    await cp(migrationsDir, dir, { recursive: true });
    await withScratchDatabase(async (url) => {
      await migrate(url, dir);
      const [first] = await readMigrations(dir);
      await writeFile(path.join(dir, first!.name, "migration.sql"), `${first!.sql}\n-- edited`);
      await expect(migrate(url, dir)).rejects.toBeInstanceOf(MigrationError);
      await expect(migrate(url, dir)).rejects.toThrow(/changed after it was applied/);
    });
  });
});
