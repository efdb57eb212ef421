import type { PrismaClient } from "../generated/prisma/client";

/**
 * How long "next image" holds an image for one annotator. Each `nextLease` call on the same image extends
 * it, so an annotator who keeps working never loses their image; one who walks away frees it after this.
 */
export const ASSIGNMENT_LEASE_MS = 30 * 60 * 1000;

/** Returns abandoned leases to the pool: an active assignment past its expiry becomes `expired`. */
export async function expireLeases(db: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await db.assignment.updateMany({
    where: { status: "active", expiresAt: { lt: now } },
    data: { status: "expired" },
  });
  return count;
}

export interface Lease {
  imageId: string;
  expiresAt: Date;
}

export interface NextLeaseInput {
  projectId: string;
  userId: string;
  /**
   * The image on the caller's screen: not handed out by this call. Their lease on it stays (the page
   * leases the next image ahead, to prefetch it, while the annotator is still working on this one).
   */
  skipImageId?: string | null;
  now?: Date;
  leaseMs?: number;
}

/**
 * The caller's next image in a project, as a lease. Their own unexpired lease comes first (extended);
 * otherwise the oldest `ready` image that nobody holds an unexpired lease on and that nobody has
 * completed is leased to them (one annotator per image in the assisted-manual stage; review is separate). Null when nothing is left.
 *
 * Concurrency: every lease is created here, with the image row locked (`FOR NO KEY UPDATE ... SKIP
 * LOCKED`), so concurrent callers walk past each other's candidates instead of queueing on them, and
 * different callers never serialise on one project-wide lock. The lock alone is not enough under READ
 * COMMITTED: a scan whose snapshot predates another transaction's commit can still lock that image right
 * after the other transaction released it, without seeing the lease it wrote. So after locking, a fresh
 * statement (fresh snapshot, taken after every earlier holder of the lock has committed) checks for a live
 * lease, and on finding one the scan runs again; each retry means another caller took that image, so the
 * loop ends. A partial unique index (one active row per image) would not express "unexpired" and cannot
 * be written in schema.prisma, so the drift check could not cover it. One caller's own calls take a
 * transaction-scoped advisory lock, so a double-click cannot lease two images at once.
 */
export async function nextLease(db: PrismaClient, input: NextLeaseInput): Promise<Lease | null> {
  const { projectId, userId } = input;
  const skipImageId = input.skipImageId ?? null;
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + (input.leaseMs ?? ASSIGNMENT_LEASE_MS));
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`lease:${projectId}:${userId}`}, 0))`;

      const own = await tx.assignment.findFirst({
        where: {
          userId,
          status: "active",
          expiresAt: { gt: now },
          image: { projectId },
          ...(skipImageId ? { imageId: { not: skipImageId } } : {}),
        },
        orderBy: [{ leasedAt: "asc" }, { id: "asc" }],
        select: { id: true, imageId: true },
      });
      if (own) {
        await tx.assignment.update({ where: { id: own.id }, data: { expiresAt } });
        return { imageId: own.imageId, expiresAt };
      }

      // Terminates: each pass either leases, finds nothing, or saw an image another caller just leased,
      // which the next pass's snapshot then excludes.
      for (;;) {
        const [candidate] = await tx.$queryRaw<{ id: string }[]>`
          SELECT i.id::text AS id
          FROM "Image" i
          WHERE i."projectId" = ${projectId}::uuid
            AND i.status = 'ready'
            AND (${skipImageId}::uuid IS NULL OR i.id <> ${skipImageId}::uuid)
            AND NOT EXISTS (
              SELECT 1 FROM "Assignment" a
              WHERE a."imageId" = i.id AND a.status = 'active' AND a."expiresAt" > ${now})
            AND NOT EXISTS (
              SELECT 1 FROM "Assignment" a
              WHERE a."imageId" = i.id AND a.status = 'completed')
          ORDER BY i."createdAt", i.id
          LIMIT 1
          FOR NO KEY UPDATE OF i SKIP LOCKED`;
        if (!candidate) return null;
        const live = await tx.assignment.count({
          where: { imageId: candidate.id, status: "active", expiresAt: { gt: now } },
        });
        if (live > 0) continue;
        // Leases on this image that ran out are recorded as such before the new one starts.
        await tx.assignment.updateMany({
          where: { imageId: candidate.id, status: "active", expiresAt: { lte: now } },
          data: { status: "expired" },
        });
        await tx.assignment.create({
          data: { imageId: candidate.id, userId, status: "active", leasedAt: now, expiresAt },
        });
        return { imageId: candidate.id, expiresAt };
      }
    },
    // Twenty annotators pressing "next" together share a pool of ten connections; none should time out.
    { maxWait: 15_000, timeout: 15_000 },
  );
}

export interface ActiveLease extends Lease {
  filename: string;
  leasedAt: Date;
}

/** The caller's unexpired leases in a project, oldest first. */
export async function activeLeases(
  db: PrismaClient,
  input: { projectId: string; userId: string; now?: Date },
): Promise<ActiveLease[]> {
  const rows = await db.assignment.findMany({
    where: {
      userId: input.userId,
      status: "active",
      expiresAt: { gt: input.now ?? new Date() },
      image: { projectId: input.projectId },
    },
    orderBy: [{ leasedAt: "asc" }, { id: "asc" }],
    select: { imageId: true, leasedAt: true, expiresAt: true, image: { select: { filename: true } } },
  });
  return rows.map((r) => ({
    imageId: r.imageId,
    filename: r.image.filename,
    leasedAt: r.leasedAt,
    expiresAt: r.expiresAt,
  }));
}

/**
 * Records that a user finished an image: their active lease on it (expired or not: the work is done)
 * becomes `completed`. Without one (the image was opened directly, or the lease was already returned to
 * the pool) a completed row is written so the image is not handed to them again. Repeating is harmless.
 */
export async function completeAssignment(
  db: PrismaClient,
  input: { imageId: string; userId: string; now?: Date },
): Promise<{ imageId: string; completedAt: Date }> {
  const { imageId, userId } = input;
  const now = input.now ?? new Date();
  return db.$transaction(async (tx) => {
    const { count } = await tx.assignment.updateMany({
      where: { imageId, userId, status: "active" },
      data: { status: "completed", completedAt: now },
    });
    if (count > 0) return { imageId, completedAt: now };
    const done = await tx.assignment.findFirst({
      where: { imageId, userId, status: "completed" },
      orderBy: { completedAt: "desc" },
      select: { completedAt: true },
    });
    if (done?.completedAt) return { imageId, completedAt: done.completedAt };
    await tx.assignment.create({
      data: { imageId, userId, status: "completed", leasedAt: now, expiresAt: now, completedAt: now },
    });
    return { imageId, completedAt: now };
  });
}
