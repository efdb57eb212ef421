import type { PrismaClient } from "../generated/prisma/client";
import { audit } from "./audit";
import { RuleViolation } from "./users";
import { liveAssignmentWhere } from "./workflow";

/**
 * How long "next image" holds an image for one annotator when the project does not say (projects carry
 * `assignmentLeaseSecs`). Each `nextLease` call on the same image extends
 * it, so an annotator who keeps working never loses their image; one who walks away frees it after this.
 */
export const ASSIGNMENT_LEASE_MS = 30 * 60 * 1000;

/**
 * Returns abandoned leases to the pool: an active lease past its expiry becomes `expired` (its image,
 * still `in_progress`, is handed out again). A manager's assignment has no expiry and stays.
 */
export async function expireLeases(db: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await db.assignment.updateMany({
    where: { status: "active", expiresAt: { lt: now } },
    data: { status: "expired" },
  });
  return count;
}

export interface Lease {
  imageId: string;
  /** Null for a manager's assignment: it is held until released, submitted or skipped. */
  expiresAt: Date | null;
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
 * The caller's next image in a project, as a lease. Their own live assignment comes first (a lease is
 * extended; a manager's assignment stays without expiry); otherwise the oldest `ready` image that is
 * still open in the workflow (`new`, or `in_progress` with nobody holding it any more) is leased to them
 * and becomes `in_progress` with them as its annotator (one annotator per image in the assisted-manual
 * stage; review is separate). Images submitted, skipped or in review are never handed out: only a
 * manager's reopen brings them back. Null when nothing is left.
 *
 * At scale (a million images, hundreds of people pressing "next"): the image row carries when its live
 * assignment ends (`leasedUntil`, kept by a trigger on Assignment), so the pool is two partial indexes:
 * open images nobody holds in hand-out order (`Image_open_for_leasing_idx`), and open images whose lease
 * ran out before the sweep marked it (`Image_held_for_leasing_idx`, as small as the live leases). One
 * statement finds the caller's own assignment or claims the oldest candidate of either index, writes the
 * lease and moves the image on: the transaction is four round trips whatever the size of the project.
 *
 * Concurrency: the candidate row is locked `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent callers walk
 * past each other's candidates instead of queueing on them, and nobody serialises on a project-wide lock.
 * Because the lease is on the locked row itself, a row another caller leased after this statement's
 * snapshot is re-checked on its latest version when locked (READ COMMITTED re-evaluates the WHERE of a
 * row it locks) and skipped: no second look is needed. One caller's own calls take a
 * transaction-scoped advisory lock first, so a double-click cannot lease two images at once (the second
 * call's statement starts after the first committed, and finds its lease as its own).
 */
export async function nextLease(db: PrismaClient, input: NextLeaseInput): Promise<Lease | null> {
  const { projectId, userId } = input;
  const skipImageId = input.skipImageId ?? null;
  const now = input.now ?? new Date();
  return db.$transaction(
    async (tx) => {
      // The caller's lock, and the project's own lease length (what a manager's assignment gets too).
      const [project] = await tx.$queryRaw<{ leaseSecs: number }[]>`
        SELECT p."assignmentLeaseSecs" AS "leaseSecs"
        FROM "Project" p, pg_advisory_xact_lock(hashtextextended(${`lease:${projectId}:${userId}`}, 0))
        WHERE p.id = ${projectId}::uuid`;
      const leaseMs = input.leaseMs ?? (project?.leaseSecs ?? ASSIGNMENT_LEASE_MS / 1000) * 1000;
      const expiresAt = new Date(now.getTime() + leaseMs);
      const [lease] = await tx.$queryRaw<{ imageId: string; held: boolean }[]>`
        WITH own AS (
          SELECT a.id, a."imageId", a."expiresAt"
          FROM "Assignment" a JOIN "Image" i ON i.id = a."imageId"
          WHERE a."userId" = ${userId}::uuid AND a.status = 'active'
            AND (a."expiresAt" IS NULL OR a."expiresAt" > ${now})
            AND i."projectId" = ${projectId}::uuid
            AND (${skipImageId}::uuid IS NULL OR a."imageId" <> ${skipImageId}::uuid)
          ORDER BY a."leasedAt", a.id
          LIMIT 1
        ),
        extended AS (
          UPDATE "Assignment" a SET "expiresAt" = ${expiresAt}
          FROM own WHERE a.id = own.id AND own."expiresAt" IS NOT NULL
        ),
        free AS (
          SELECT i.id, i."createdAt" FROM "Image" i
          WHERE NOT EXISTS (SELECT 1 FROM own)
            AND i."projectId" = ${projectId}::uuid AND i."leasedUntil" IS NULL
            AND i.status = 'ready' AND i."workflowState" IN ('new', 'in_progress')
            AND (${skipImageId}::uuid IS NULL OR i.id <> ${skipImageId}::uuid)
          ORDER BY i."createdAt", i.id
          LIMIT 1
          FOR NO KEY UPDATE SKIP LOCKED
        ),
        lapsed AS (
          SELECT i.id, i."createdAt" FROM "Image" i
          WHERE NOT EXISTS (SELECT 1 FROM own)
            AND i."projectId" = ${projectId}::uuid AND i."leasedUntil" IS NOT NULL
            AND i."leasedUntil" <= ${now}
            AND i.status = 'ready' AND i."workflowState" IN ('new', 'in_progress')
            AND (${skipImageId}::uuid IS NULL OR i.id <> ${skipImageId}::uuid)
          ORDER BY i."createdAt", i.id
          LIMIT 1
          FOR NO KEY UPDATE SKIP LOCKED
        ),
        candidate AS (
          SELECT id FROM (SELECT * FROM free UNION ALL SELECT * FROM lapsed) c
          ORDER BY "createdAt", id
          LIMIT 1
        ),
        claimed AS (
          UPDATE "Image" i
          SET "workflowState" = 'in_progress', "annotatorId" = ${userId}::uuid, "workflowAt" = ${now},
              "updatedAt" = ${now}
          FROM candidate c WHERE i.id = c.id
          RETURNING i.id
        ),
        -- Leases on this image that ran out are recorded as such before the new one starts.
        ran_out AS (
          UPDATE "Assignment" a SET status = 'expired'
          FROM claimed c
          WHERE a."imageId" = c.id AND a.status = 'active' AND a."expiresAt" <= ${now}
        ),
        created AS (
          INSERT INTO "Assignment" (id, "imageId", "userId", status, "leasedAt", "expiresAt")
          SELECT gen_random_uuid(), c.id, ${userId}::uuid, 'active', ${now}, ${expiresAt} FROM claimed c
          RETURNING "imageId"
        )
        SELECT "imageId"::text AS "imageId", "expiresAt" IS NULL AS held FROM own
        UNION ALL
        SELECT "imageId"::text, false FROM created`;
      if (!lease) return null;
      return { imageId: lease.imageId, expiresAt: lease.held ? null : expiresAt };
    },
    // Twenty annotators pressing "next" together share a pool of ten connections; none should time out.
    { maxWait: 15_000, timeout: 15_000 },
  );
}

export interface ActiveLease extends Lease {
  filename: string;
  leasedAt: Date;
}

/** The caller's live assignments in a project (unexpired leases and a manager's assignments), oldest first. */
export async function activeLeases(
  db: PrismaClient,
  input: { projectId: string; userId: string; now?: Date },
): Promise<ActiveLease[]> {
  const rows = await db.assignment.findMany({
    where: {
      userId: input.userId,
      ...liveAssignmentWhere(input.now ?? new Date()),
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

export interface ProjectLease {
  assignmentId: string;
  imageId: string;
  filename: string;
  userId: string;
  userName: string;
  userEmail: string;
  leasedAt: Date;
  /** Null: a manager's assignment, held until released, submitted or skipped. */
  expiresAt: Date | null;
}

export interface AnnotatorProgress {
  userId: string;
  name: string;
  email: string;
  /** The member's project role; null for someone who completed images and has since left the project. */
  role: "manager" | "reviewer" | "annotator" | null;
  completed: number;
  activeLeases: number;
}

export interface ProjectAssignments {
  leases: ProjectLease[];
  annotators: AnnotatorProgress[];
  /** Open images (new, or in progress with nobody holding them) (oldest first, at most `availableLimit`). */
  available: { imageId: string; filename: string; status: string }[];
}

/**
 * A manager's view of a project's work: every unexpired lease with who holds it, each member's (and each
 * former member's) count of completed images, and images still waiting for someone.
 */
export async function projectAssignments(
  db: PrismaClient,
  input: { projectId: string; now?: Date; availableLimit?: number },
): Promise<ProjectAssignments> {
  const { projectId } = input;
  const now = input.now ?? new Date();
  const [leaseRows, completedGroups, members, available] = await Promise.all([
    db.assignment.findMany({
      where: { ...liveAssignmentWhere(now), image: { projectId } },
      orderBy: [{ leasedAt: "asc" }, { id: "asc" }],
      select: {
        id: true,
        imageId: true,
        leasedAt: true,
        expiresAt: true,
        image: { select: { filename: true } },
        user: { select: { id: true, name: true, email: true } },
      },
    }),
    db.assignment.groupBy({
      by: ["userId"],
      where: { status: "completed", image: { projectId } },
      _count: { imageId: true },
    }),
    db.projectMember.findMany({
      where: { projectId },
      select: { role: true, user: { select: { id: true, name: true, email: true } } },
    }),
    db.image.findMany({
      where: {
        projectId,
        status: { not: "failed" },
        workflowState: { in: ["new", "in_progress"] },
        assignments: { none: liveAssignmentWhere(now) },
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: input.availableLimit ?? 200,
      select: { id: true, filename: true, status: true },
    }),
  ]);

  const leases = leaseRows.map((r) => ({
    assignmentId: r.id,
    imageId: r.imageId,
    filename: r.image.filename,
    userId: r.user.id,
    userName: r.user.name,
    userEmail: r.user.email,
    leasedAt: r.leasedAt,
    expiresAt: r.expiresAt,
  }));
  const completedBy = new Map(completedGroups.map((g) => [g.userId, g._count.imageId]));
  const leasesBy = new Map<string, number>();
  for (const lease of leases) leasesBy.set(lease.userId, (leasesBy.get(lease.userId) ?? 0) + 1);

  const annotators: AnnotatorProgress[] = members.map((m) => ({
    userId: m.user.id,
    name: m.user.name,
    email: m.user.email,
    role: m.role,
    completed: completedBy.get(m.user.id) ?? 0,
    activeLeases: leasesBy.get(m.user.id) ?? 0,
  }));
  const listed = new Set(annotators.map((a) => a.userId));
  const formerIds = [...completedBy.keys(), ...leasesBy.keys()].filter((id) => !listed.has(id));
  if (formerIds.length > 0) {
    const former = await db.user.findMany({
      where: { id: { in: [...new Set(formerIds)] } },
      select: { id: true, name: true, email: true },
    });
    for (const user of former) {
      annotators.push({
        userId: user.id,
        name: user.name,
        email: user.email,
        role: null,
        completed: completedBy.get(user.id) ?? 0,
        activeLeases: leasesBy.get(user.id) ?? 0,
      });
    }
  }
  annotators.sort((a, b) => b.completed - a.completed || a.name.localeCompare(b.name));

  return {
    leases,
    annotators,
    available: available.map((i) => ({ imageId: i.id, filename: i.filename, status: i.status })),
  };
}

export interface ReassignInput {
  imageId: string;
  /** When given, the image must belong to this project (bulk actions name the project they act in). */
  projectId?: string;
  /** The member who gets the image; null only releases it back to the pool. */
  userId: string | null;
  actorId: string;
  now?: Date;
  /**
   * A manager's assignment has no expiry: it holds until released, submitted or skipped (it used to end
   * silently after the project's lease time). Give a length only for a deliberately temporary hand-over.
   */
  leaseMs?: number;
}

export interface ReassignResult {
  imageId: string;
  projectId: string;
  releasedFrom: string[];
  lease: { assignmentId: string; userId: string; expiresAt: Date | null } | null;
}

/**
 * A manager hands an image to a member, or takes it back. The current holder's live assignment ends as
 * `released` (leases that already ran out are marked `expired`, as nextLease does) and, when `userId` is
 * given, an assignment for that member starts, with no expiry, and the image becomes theirs and
 * `in_progress`; released, an image in progress goes back to `new`. The `assignment.reassigned` audit
 * row commits with it. The target must be an active member of the image's project.
 *
 * Concurrency: the image row is locked with the same `FOR NO KEY UPDATE` that nextLease takes on its
 * candidate, so a reassignment and a "next image" never both lease one image (nextLease skips the locked
 * row, and its post-lock check sees the new lease). Different images lock different rows, so reassigning
 * many images at once never serialises.
 */
export async function reassignImage(db: PrismaClient, input: ReassignInput): Promise<ReassignResult> {
  const now = input.now ?? new Date();
  return db.$transaction(
    async (tx) => {
      const [image] = await tx.$queryRaw<{ projectId: string; workflowState: string }[]>`
        SELECT i."projectId"::text AS "projectId", i."workflowState"::text AS "workflowState"
        FROM "Image" i
        WHERE i.id = ${input.imageId}::uuid
        FOR NO KEY UPDATE OF i`;
      if (!image || (input.projectId && image.projectId !== input.projectId)) {
        throw new RuleViolation("NOT_FOUND", "image not found");
      }

      if (input.userId) {
        const member = await tx.projectMember.findUnique({
          where: { projectId_userId: { projectId: image.projectId, userId: input.userId } },
          select: { user: { select: { active: true } } },
        });
        if (!member) throw new RuleViolation("BAD_REQUEST", "that user is not a member of this project");
        if (!member.user.active) throw new RuleViolation("BAD_REQUEST", "that user is deactivated");
      }

      const current = await tx.assignment.findMany({
        where: { imageId: input.imageId, ...liveAssignmentWhere(now) },
        select: { id: true, userId: true },
      });
      if (current.length > 0) {
        await tx.assignment.updateMany({
          where: { id: { in: current.map((c) => c.id) } },
          data: { status: "released" },
        });
      }
      await tx.assignment.updateMany({
        where: { imageId: input.imageId, status: "active", expiresAt: { lte: now } },
        data: { status: "expired" },
      });

      let lease: ReassignResult["lease"] = null;
      if (input.userId) {
        const expiresAt = input.leaseMs === undefined ? null : new Date(now.getTime() + input.leaseMs);
        const created = await tx.assignment.create({
          data: { imageId: input.imageId, userId: input.userId, status: "active", leasedAt: now, expiresAt },
          select: { id: true },
        });
        lease = { assignmentId: created.id, userId: input.userId, expiresAt };
        await tx.image.update({
          where: { id: input.imageId },
          data: {
            workflowState: "in_progress",
            annotatorId: input.userId,
            skipReason: null,
            workflowAt: now,
          },
        });
      } else if (image.workflowState === "in_progress") {
        await tx.image.update({
          where: { id: input.imageId },
          data: { workflowState: "new", annotatorId: null, workflowAt: now },
        });
      }

      const releasedFrom = current.map((c) => c.userId);
      await audit(tx, {
        actorId: input.actorId,
        action: "assignment.reassigned",
        targetType: "assignment",
        targetId: lease?.assignmentId ?? current[0]?.id ?? null,
        projectId: image.projectId,
        details: {
          imageId: input.imageId,
          before: { userIds: releasedFrom, assignmentIds: current.map((c) => c.id) },
          after: { userId: input.userId, assignmentId: lease?.assignmentId ?? null },
        },
      });
      return { imageId: input.imageId, projectId: image.projectId, releasedFrom, lease };
    },
    // Like nextLease: many managers' clicks share a pool of ten connections and must not time out.
    { maxWait: 15_000, timeout: 15_000 },
  );
}
