import { auth, sessionUser } from "@sas/auth";
import { disconnectPrisma, prisma, type Role } from "@sas/db";
import { verifyPassword } from "better-auth/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, callerAs } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);
const password = "users-test-password";

const callerFor = (user: Actor | null) => callerAs(user);

async function makeUser(key: string, role: Role, extra: { active?: boolean } = {}): Promise<Actor> {
  const user = await prisma().user.create({
    data: { email: `${key}-${unique}@users.test`, name: `${key} ${unique}`, role, ...extra },
  });
  return { id: user.id, role: user.role };
}

const auditRows = (targetId: string, action?: string) =>
  prisma().auditLog.findMany({
    where: { targetId, ...(action ? { action } : {}) },
    orderBy: { createdAt: "asc" },
  });

let admin: Actor;
let manager: Actor;
let annotator: Actor;

beforeAll(async () => {
  admin = await makeUser("admin", "admin");
  manager = await makeUser("manager", "manager");
  annotator = await makeUser("annotator", "annotator");
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("users.* access", () => {
  it("refuses anonymous callers with UNAUTHORIZED", async () => {
    const anon = callerFor(null);
    await expect(anon.users.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(
      anon.users.create({ email: `anon-${unique}@users.test`, name: "a", role: "annotator", password }),
    ).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(anon.users.setRole({ userId: annotator.id, role: "manager" })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    await expect(anon.users.setActive({ userId: annotator.id, active: false })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    await expect(anon.users.search({ query: "a" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("refuses managers and annotators with FORBIDDEN, changing nothing", async () => {
    for (const actor of [manager, annotator]) {
      const caller = callerFor(actor);
      await expect(caller.users.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(
        caller.users.create({ email: `nope-${unique}@users.test`, name: "n", role: "admin", password }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(caller.users.setRole({ userId: actor.id, role: "admin" })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(caller.users.setActive({ userId: admin.id, active: false })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    }
    expect(await prisma().user.findUnique({ where: { email: `nope-${unique}@users.test` } })).toBeNull();
    expect((await prisma().user.findUniqueOrThrow({ where: { id: admin.id } })).active).toBe(true);
  });
});

describe("users.create and users.list", () => {
  it("creates a user who can sign in, audits it, and lists them", async () => {
    const email = `New.Person-${unique}@Users.Test`;
    const created = await callerFor(admin).users.create({
      email,
      name: " New Person ",
      role: "manager",
      password,
    });
    expect(created).toMatchObject({
      email: email.toLowerCase(),
      name: "New Person",
      role: "manager",
      active: true,
    });

    const account = await prisma().account.findFirstOrThrow({ where: { userId: created.id } });
    expect(account.providerId).toBe("credential");
    expect(account.password).not.toContain(password);
    expect(await verifyPassword({ hash: account.password!, password })).toBe(true);
    // The real sign-in path accepts the new account.
    const signIn = await auth().api.signInEmail({ body: { email: email.toLowerCase(), password } });
    expect(signIn.user.id).toBe(created.id);

    const [row] = await auditRows(created.id, "user.created");
    expect(row).toMatchObject({
      actorId: admin.id,
      targetType: "user",
      details: { after: { email: email.toLowerCase(), name: "New Person", role: "manager", active: true } },
    });

    await prisma().project.create({
      data: {
        name: `users-list-${unique}`,
        members: { create: [{ userId: created.id, role: "manager" }] },
      },
    });
    const list = await callerFor(admin).users.list();
    expect(list.find((u) => u.id === created.id)).toEqual({
      id: created.id,
      email: email.toLowerCase(),
      name: "New Person",
      role: "manager",
      active: true,
      createdAt: expect.any(Date),
      projectCount: 1,
    });
    expect(list.find((u) => u.id === annotator.id)?.projectCount).toBe(0);
  });

  it("refuses a duplicate email (any case) with CONFLICT and a clear message", async () => {
    const email = `dup-${unique}@users.test`;
    await callerFor(admin).users.create({ email, name: "Dup", role: "annotator", password });
    await expect(
      callerFor(admin).users.create({ email: email.toUpperCase(), name: "Dup 2", role: "admin", password }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: `a user with the email ${email} already exists` });
    expect(await prisma().user.count({ where: { email } })).toBe(1);
    expect(
      await prisma().auditLog.count({
        where: { action: "user.created", details: { path: ["after", "email"], equals: email } },
      }),
    ).toBe(1);
  });

  it("validates input: short password, bad email, empty name", async () => {
    const caller = callerFor(admin);
    await expect(
      caller.users.create({
        email: `short-${unique}@users.test`,
        name: "S",
        role: "annotator",
        password: "short",
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.users.create({ email: "not-an-email", name: "S", role: "annotator", password }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.users.create({ email: `empty-${unique}@users.test`, name: "  ", role: "annotator", password }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("users.setRole", () => {
  it("changes a role and audits before/after; the same role again writes nothing", async () => {
    const target = await makeUser("promote", "annotator");
    expect(await callerFor(admin).users.setRole({ userId: target.id, role: "manager" })).toEqual({
      id: target.id,
      role: "manager",
      changed: true,
    });
    expect((await prisma().user.findUniqueOrThrow({ where: { id: target.id } })).role).toBe("manager");
    const rows = await auditRows(target.id, "user.role_changed");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorId: admin.id,
      details: { before: { role: "annotator" }, after: { role: "manager" } },
    });

    expect(await callerFor(admin).users.setRole({ userId: target.id, role: "manager" })).toMatchObject({
      changed: false,
    });
    expect(await auditRows(target.id, "user.role_changed")).toHaveLength(1);
  });

  it("refuses an admin demoting themself (BAD_REQUEST) and an unknown user (NOT_FOUND)", async () => {
    await expect(callerFor(admin).users.setRole({ userId: admin.id, role: "manager" })).rejects.toMatchObject(
      {
        code: "BAD_REQUEST",
        message: expect.stringMatching(/your own admin role/),
      },
    );
    expect((await prisma().user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe("admin");
    await expect(
      callerFor(admin).users.setRole({ userId: "00000000-0000-4000-8000-00000000dead", role: "manager" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lets one admin demote another while another active admin remains", async () => {
    const second = await makeUser("second-admin", "admin");
    await callerFor(admin).users.setRole({ userId: second.id, role: "annotator" });
    expect((await prisma().user.findUniqueOrThrow({ where: { id: second.id } })).role).toBe("annotator");
  });

  it("never removes the last active admin, even when two admins demote each other at once", async () => {
    const db = prisma();
    const a = await makeUser("last-a", "admin");
    const b = await makeUser("last-b", "admin");
    // Only a and b stay active admins while this runs (other files' admins come back afterwards).
    const others = await db.user.findMany({
      where: { role: "admin", active: true, id: { notIn: [a.id, b.id] } },
      select: { id: true },
    });
    await db.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { active: false } });
    try {
      const results = await Promise.allSettled([
        callerFor(a).users.setRole({ userId: b.id, role: "manager" }),
        callerFor(b).users.setRole({ userId: a.id, role: "manager" }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected");
      expect(rejected?.reason).toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(/last active admin/),
      });
      expect(await db.user.count({ where: { role: "admin", active: true } })).toBe(1);

      // The remaining admin cannot be deactivated either, by a caller whose session still says admin.
      const [remaining] = await db.user.findMany({ where: { role: "admin", active: true } });
      const stale = remaining!.id === a.id ? b : a;
      await expect(
        callerFor(stale).users.setActive({ userId: remaining!.id, active: false }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/last active admin/) });
      await expect(
        callerFor(stale).users.setRole({ userId: remaining!.id, role: "annotator" }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await db.user.count({ where: { role: "admin", active: true } })).toBe(1);
    } finally {
      await db.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { active: true } });
    }
  });
});

describe("users.setActive", () => {
  it("deactivating signs the user out at once and blocks sign-in; reactivating lets them back", async () => {
    const email = `leaver-${unique}@users.test`;
    const leaver = await callerFor(admin).users.create({
      email,
      name: "Leaver",
      role: "annotator",
      password,
    });
    const signedIn = async () => {
      const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
      const cookie = response.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      return { status: response.status, headers: new Headers({ cookie }) };
    };
    const first = await signedIn();
    const second = await signedIn();
    expect((await sessionUser(first.headers))?.id).toBe(leaver.id);
    expect(await prisma().session.count({ where: { userId: leaver.id } })).toBe(2);

    expect(await callerFor(admin).users.setActive({ userId: leaver.id, active: false })).toEqual({
      id: leaver.id,
      active: false,
      changed: true,
      sessionsRevoked: 2,
    });
    expect(await prisma().session.count({ where: { userId: leaver.id } })).toBe(0);
    expect(await sessionUser(first.headers)).toBeNull();
    expect(await sessionUser(second.headers)).toBeNull();
    expect((await signedIn()).status).not.toBe(200);
    expect(await prisma().session.count({ where: { userId: leaver.id } })).toBe(0);

    const [deactivated] = await auditRows(leaver.id, "user.deactivated");
    expect(deactivated).toMatchObject({
      actorId: admin.id,
      details: { before: { active: true }, after: { active: false }, sessionsRevoked: 2 },
    });

    expect(await callerFor(admin).users.setActive({ userId: leaver.id, active: true })).toMatchObject({
      active: true,
      changed: true,
    });
    const [reactivated] = await auditRows(leaver.id, "user.reactivated");
    expect(reactivated).toMatchObject({ details: { before: { active: false }, after: { active: true } } });
    const back = await signedIn();
    expect(back.status).toBe(200);
    expect((await sessionUser(back.headers))?.id).toBe(leaver.id);

    // Repeating a state changes nothing and writes no audit row.
    await callerFor(admin).users.setActive({ userId: leaver.id, active: true });
    expect(await auditRows(leaver.id, "user.reactivated")).toHaveLength(1);
  });

  it("refuses an admin deactivating themself", async () => {
    await expect(callerFor(admin).users.setActive({ userId: admin.id, active: false })).rejects.toMatchObject(
      {
        code: "BAD_REQUEST",
        message: expect.stringMatching(/your own account/),
      },
    );
    expect((await prisma().user.findUniqueOrThrow({ where: { id: admin.id } })).active).toBe(true);
  });
});

describe("users.search", () => {
  let projectId: string;
  let member: Actor;
  let candidate: Actor;

  beforeAll(async () => {
    member = await makeUser("findme-member", "annotator");
    candidate = await makeUser("findme-candidate", "annotator");
    await makeUser("findme-inactive", "annotator", { active: false });
    const project = await prisma().project.create({
      data: {
        name: `users-search-${unique}`,
        members: {
          create: [
            { userId: annotator.id, role: "manager" },
            { userId: member.id, role: "annotator" },
          ],
        },
      },
    });
    projectId = project.id;
  });

  it("finds active users by name or email for global managers and admins, id/name/email only", async () => {
    for (const actor of [admin, manager]) {
      const found = await callerFor(actor).users.search({ query: "FINDME" });
      const ours = found.filter((u) => u.email.endsWith(`${unique}@users.test`));
      expect(ours.map((u) => u.id).sort()).toEqual([member.id, candidate.id].sort());
      expect(Object.keys(ours[0]!).sort()).toEqual(["email", "id", "name"]);
    }
    const byName = await callerFor(admin).users.search({ query: `candidate ${unique}` });
    expect(byName.map((u) => u.id)).toEqual([candidate.id]);
  });

  it("is closed to global annotators without a project, open to a project's manager for it", async () => {
    await expect(callerFor(annotator).users.search({ query: "findme" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    // `annotator` manages the project: members are left out.
    const found = await callerFor(annotator).users.search({ query: `findme`, projectId });
    const ours = found.filter((u) => u.email.endsWith(`${unique}@users.test`));
    expect(ours.map((u) => u.id)).toEqual([candidate.id]);
    // A plain member is FORBIDDEN, an outsider (even a global manager) sees NOT_FOUND.
    await expect(callerFor(member).users.search({ query: "x", projectId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(callerFor(manager).users.search({ query: "x", projectId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
