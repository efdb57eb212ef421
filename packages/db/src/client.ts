import { PrismaPg } from "@prisma/adapter-pg";
import { env } from "@sas/config";
import { PrismaClient } from "./generated/prisma/client";

export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
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
