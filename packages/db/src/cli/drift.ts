// npm run db:drift — compares DATABASE_URL's migrated schema with prisma/schema.prisma, one line per difference.
import { parseEnv } from "@sas/config";
import pg from "pg";
import { actualShape, diffShapes, expectedShape } from "../drift";
import { loadDatamodel } from "../prisma-schema";

const client = new pg.Client({ connectionString: parseEnv().DATABASE_URL });
try {
  await client.connect();
  const problems = diffShapes(expectedShape(await loadDatamodel()), await actualShape(client));
  if (problems.length === 0) console.log("no drift: the database matches schema.prisma");
  for (const line of problems) console.log(line);
  process.exitCode = problems.length ? 1 : 0;
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
