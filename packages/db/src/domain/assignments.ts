import type { PrismaClient } from "../generated/prisma/client";

/** Returns abandoned leases to the pool: an active assignment past its expiry becomes `expired`. */
export async function expireLeases(db: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await db.assignment.updateMany({
    where: { status: "active", expiresAt: { lt: now } },
    data: { status: "expired" },
  });
  return count;
}
