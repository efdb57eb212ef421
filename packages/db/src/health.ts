import { env, redactUrl } from "@sas/config";
import type { PrismaClient } from "./generated/prisma/client";

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

/** A real round trip that also proves the schema is migrated (it reads a table, not just `SELECT 1`). */
export async function checkDatabase(db: PrismaClient): Promise<{ latencyMs: number; users: number }> {
  const started = performance.now();
  try {
    const users = await db.user.count();
    return { latencyMs: performance.now() - started, users };
  } catch (error) {
    const message = (error as Error).message.split("\n").filter(Boolean).at(-1) ?? String(error);
    throw new DatabaseUnavailableError(
      `cannot use the database at ${redactUrl(env().DATABASE_URL)}: ${message}`,
    );
  }
}
