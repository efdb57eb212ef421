import { hashPassword } from "better-auth/crypto";
import type { Prisma, PrismaClient, Role, User } from "../generated/prisma/client";
import { audit } from "./audit";

/** better-auth's credential provider id: accounts made here can sign in through it. */
export const CREDENTIAL_PROVIDER = "credential";

/**
 * A change refused by a business rule (duplicate email, last admin, not a member, ...). The API layer
 * turns `code` into the matching tRPC error code; the message is meant for the person who asked.
 */
export class RuleViolation extends Error {
  override name = "RuleViolation";
  constructor(
    readonly code: "BAD_REQUEST" | "NOT_FOUND" | "CONFLICT",
    message: string,
  ) {
    super(message);
  }
}

type Tx = Prisma.TransactionClient;

/** Serialises every change that could leave the system without an active admin. */
const ADMIN_LOCK_KEY = "users:active-admins";

/** Prisma's unique-constraint violation, whichever driver adapter reported it. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "P2002";
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  password: string;
}

/**
 * Creates a user who can sign in with email + password (better-auth's scrypt hash, credential account).
 * With `actorId` (an admin creating the account) the `user.created` audit row commits with it. An email
 * already in use (compared case-insensitively) is a CONFLICT.
 */
export async function createUserWithPassword(
  db: PrismaClient,
  input: NewUser,
  options: { actorId?: string | null } = {},
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { email, name: input.name, role: input.role, emailVerified: true },
      });
      await tx.account.create({
        data: {
          userId: user.id,
          accountId: user.id,
          providerId: CREDENTIAL_PROVIDER,
          password: passwordHash,
        },
      });
      if (options.actorId !== undefined) {
        await audit(tx, {
          actorId: options.actorId,
          action: "user.created",
          targetType: "user",
          targetId: user.id,
          details: { after: { email, name: input.name, role: input.role, active: true } },
        });
      }
      return user;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new RuleViolation("CONFLICT", `a user with the email ${email} already exists`);
    }
    throw error;
  }
}

export interface UserSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  createdAt: Date;
  projectCount: number;
}

/** Every user, oldest first, with how many projects each belongs to. */
export async function listUsers(db: PrismaClient): Promise<UserSummary[]> {
  const rows = await db.user.findMany({
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: {
      id: true,
      email: true,
      name: true,
      role: true,
      active: true,
      createdAt: true,
      _count: { select: { memberships: true } },
    },
  });
  return rows.map(({ _count, ...user }) => ({ ...user, projectCount: _count.memberships }));
}

/**
 * Active users whose name or email contains `query` (case-insensitive), for picking people to add to a
 * project; `excludeProjectId` leaves out that project's members. Only id, name and email come back.
 */
export async function searchUsers(
  db: PrismaClient,
  input: { query: string; excludeProjectId?: string | null; limit?: number },
): Promise<{ id: string; name: string; email: string }[]> {
  const query = input.query.trim();
  return db.user.findMany({
    where: {
      active: true,
      ...(query
        ? {
            OR: [
              { email: { contains: query, mode: "insensitive" } },
              { name: { contains: query, mode: "insensitive" } },
            ],
          }
        : {}),
      ...(input.excludeProjectId ? { memberships: { none: { projectId: input.excludeProjectId } } } : {}),
    },
    orderBy: [{ name: "asc" }, { email: "asc" }],
    take: input.limit ?? 20,
    select: { id: true, name: true, email: true },
  });
}

async function lockedTarget(tx: Tx, userId: string) {
  // Every admin-affecting change takes the same transaction-scoped lock, so two admins demoting each
  // other at once cannot both see "one other admin is left".
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${ADMIN_LOCK_KEY}, 0))`;
  const user = await tx.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, role: true, active: true },
  });
  if (!user) throw new RuleViolation("NOT_FOUND", "user not found");
  return user;
}

async function assertAnotherActiveAdmin(tx: Tx, userId: string): Promise<void> {
  const others = await tx.user.count({ where: { role: "admin", active: true, id: { not: userId } } });
  if (others === 0) {
    throw new RuleViolation("BAD_REQUEST", "this is the last active admin; make someone else admin first");
  }
}

export interface UserChange {
  actorId: string;
  userId: string;
}

/**
 * Changes a user's global role and ends the user's sessions. An admin cannot demote themself, and the
 * last active admin cannot be demoted. Writes `user.role_changed` with before/after; setting the role a
 * user already has changes nothing and writes nothing.
 */
export async function setUserRole(
  db: PrismaClient,
  input: UserChange & { role: Role },
): Promise<{ id: string; role: Role; changed: boolean }> {
  return db.$transaction(async (tx) => {
    const user = await lockedTarget(tx, input.userId);
    if (user.role === input.role) return { id: user.id, role: user.role, changed: false };
    if (user.role === "admin") {
      if (user.id === input.actorId) {
        throw new RuleViolation("BAD_REQUEST", "you cannot remove your own admin role");
      }
      if (user.active) await assertAnotherActiveAdmin(tx, user.id);
    }
    await tx.user.update({ where: { id: user.id }, data: { role: input.role } });
    // A new role starts from a fresh sign-in: no session made under the old one lives on.
    await tx.session.deleteMany({ where: { userId: user.id } });
    await audit(tx, {
      actorId: input.actorId,
      action: "user.role_changed",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, before: { role: user.role }, after: { role: input.role } },
    });
    return { id: user.id, role: input.role, changed: true };
  });
}

/**
 * Deactivates or reactivates a user. Deactivating deletes the user's sessions in the same transaction,
 * so they are signed out at once; an admin cannot deactivate themself, nor the last active admin.
 * Writes `user.deactivated` / `user.reactivated` with before/after; no change writes nothing.
 */
export async function setUserActive(
  db: PrismaClient,
  input: UserChange & { active: boolean },
): Promise<{ id: string; active: boolean; changed: boolean; sessionsRevoked: number }> {
  return db.$transaction(async (tx) => {
    const user = await lockedTarget(tx, input.userId);
    if (!input.active) {
      if (user.id === input.actorId) {
        throw new RuleViolation("BAD_REQUEST", "you cannot deactivate your own account");
      }
      if (user.role === "admin" && user.active) await assertAnotherActiveAdmin(tx, user.id);
    }
    // Sessions go even when the flag was already off: nobody inactive should hold one.
    const { count: sessionsRevoked } = input.active
      ? { count: 0 }
      : await tx.session.deleteMany({ where: { userId: user.id } });
    if (user.active === input.active) {
      return { id: user.id, active: user.active, changed: false, sessionsRevoked };
    }
    await tx.user.update({ where: { id: user.id }, data: { active: input.active } });
    await audit(tx, {
      actorId: input.actorId,
      action: input.active ? "user.reactivated" : "user.deactivated",
      targetType: "user",
      targetId: user.id,
      details: {
        email: user.email,
        before: { active: user.active },
        after: { active: input.active },
        ...(input.active ? {} : { sessionsRevoked }),
      },
    });
    return { id: user.id, active: input.active, changed: true, sessionsRevoked };
  });
}
