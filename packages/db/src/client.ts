import { PrismaPg } from "@prisma/adapter-pg";
import { env } from "@sas/config";
import { PrismaClient } from "./generated/prisma/client";

/** How long taking a connection from the pool (or opening one) may take before the query fails. */
export const DATABASE_CONNECT_TIMEOUT_MS = 3000;

export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    // A request meeting a database outage fails within seconds instead of waiting for a socket
    // (DATABASE_CONNECT_TIMEOUT_MS); dead idle connections are noticed by TCP keepalive.
    connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  return new PrismaClient({ adapter });
}

const globalForPrisma = globalThis as unknown as { sasPrisma?: PrismaClient };

/** One client per process (kept on globalThis so Next's dev reloads do not open a pool each time). */
export function prisma(): PrismaClient {
  globalForPrisma.sasPrisma ??= createPrisma(env().DATABASE_URL);
  return globalForPrisma.sasPrisma;
}

export async function disconnectPrisma(): Promise<void> {
  await globalForPrisma.sasPrisma?.$disconnect();
  globalForPrisma.sasPrisma = undefined;
}

export type { PrismaClient };
