import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actualShape, diffShapes, expectedShape } from "./drift";
import { migrate, migrationsDir } from "./migrate";
import { loadDatamodel, schemaPath } from "./prisma-schema";
import { withScratchDatabase } from "./testing/scratch-database";

async function shapeOf(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await actualShape(client);
  } finally {
    await client.end();
  }
}

describe("migrations and schema.prisma", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "sas-drift-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("the migrated database matches schema.prisma exactly", async () => {
    const expected = expectedShape(await loadDatamodel());
    const actual = await shapeOf(process.env.DATABASE_URL!);
    expect(diffShapes(expected, actual)).toEqual([]);
    // The comparison covers the whole model, not an empty one.
    expect(Object.keys(expected.tables)).toEqual(
      expect.arrayContaining(["User", "Image", "Mask", "MaskTiming", "Job"]),
    );
    expect(Object.keys(expected.tables).length).toBe(Object.keys(actual.tables).length);
  });

  it("a column added to schema.prisma without a migration is reported as drift", async () => {
    const schema = await readFile(schemaPath, "utf8");
    const edited = schema.replace(/model Mask \{\n/, "model Mask {\n  reviewNote String?\n");
    expect(edited).not.toBe(schema);
    const file = path.join(tmp, "schema.prisma");
    await writeFile(file, edited);
    const problems = diffShapes(
      expectedShape(await loadDatamodel(file)),
      await shapeOf(process.env.DATABASE_URL!),
    );
    expect(problems).toEqual(["missing column Mask.reviewNote"]);
  });

  it("a migration that changes the database without schema.prisma is reported as drift", async () => {
    const dir = path.join(tmp, "migrations");
    await cp(migrationsDir, dir, { recursive: true });
    const extra = path.join(dir, "29990101000000_unexpected");
    await mkdir(extra);
    await writeFile(path.join(extra, "migration.sql"), `CREATE INDEX "Mask_label_idx" ON "Mask"("label");`);
    await withScratchDatabase(async (url) => {
      await migrate(url, dir);
      const problems = diffShapes(expectedShape(await loadDatamodel()), await shapeOf(url));
      expect(problems).toEqual(["unexpected index Mask_label_idx on Mask"]);
    });
  });
});
