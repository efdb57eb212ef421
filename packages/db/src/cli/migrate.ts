// npm run db:migrate — applies pending migrations to DATABASE_URL (creating the database if needed).
import { ConfigError, parseEnv, redactUrl } from "@sas/config";
import { ensureDatabase, migrate } from "../migrate";

try {
  const { DATABASE_URL } = parseEnv();
  await ensureDatabase(DATABASE_URL);
  const result = await migrate(DATABASE_URL);
  console.log(
    `${redactUrl(DATABASE_URL)}: applied ${result.applied.length} migration(s)${result.applied.length ? `: ${result.applied.join(", ")}` : ""}; ${result.alreadyApplied} already applied`,
  );
} catch (error) {
  console.error(`error: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}
