import { disconnectPrisma, type ImageStatus, type ProjectRole, prisma, type Role } from "@sas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, callerAs, createTestImage } from "../testing/fixtures";

const unique = Math.random().toString(36).slice(2);

const callerFor = (user: Actor | null) => callerAs(user);

async function makeUser(key: string, role: Role = "annotator", active = true): Promise<Actor> {
  const user = await prisma().user.create({
    data: { email: `${key}-${unique}@project.test`, name: `${key} ${unique}`, role, active },
  });
  return { id: user.id, role: user.role };
}

const emailOf = (key: string) => `${key}-${unique}@project.test`;

async function makeProject(key: string, members: [Actor, ProjectRole][]) {
  const project = await prisma().project.create({
    data: {
      name: `project-${key}-${unique}`,
      members: { create: members.map(([user, role]) => ({ userId: user.id, role })) },
    },
  });
  return project.id;
}

async function makeImages(projectId: string, key: string, statuses: ImageStatus[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, status] of statuses.entries()) {
    const id = await createTestImage({
      projectId,
      filename: `${key}-${i}.jpg`,
      status,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
    ids.push(id);
  }
  return ids;
}

const audits = (projectId: string, action: string) =>
  prisma().auditLog.findMany({ where: { projectId, action }, orderBy: { createdAt: "asc" } });

const memberRole = async (projectId: string, userId: string) =>
  (await prisma().projectMember.findUnique({ where: { projectId_userId: { projectId, userId } } }))?.role ??
  null;

let admin: Actor;
let globalManager: Actor;
let globalAnnotator: Actor;

beforeAll(async () => {
  admin = await makeUser("admin", "admin");
  globalManager = await makeUser("gmanager", "manager");
  globalAnnotator = await makeUser("gannotator", "annotator");
});

afterAll(async () => {
  await disconnectPrisma();
});

describe("project.create", () => {
  it("lets a global manager create a project, as its first manager member, audited", async () => {
    const project = await callerFor(globalManager).project.create({
      name: `  Street scenes ${unique} `,
      description: "Cars and people",
    });
    expect(project).toEqual({
      id: expect.any(String),
      name: `Street scenes ${unique}`,
      description: "Cars and people",
      createdAt: expect.any(Date),
    });
    const row = await prisma().project.findUniqueOrThrow({ where: { id: project.id } });
    expect(row.createdById).toBe(globalManager.id);
    expect(await memberRole(project.id, globalManager.id)).toBe("manager");
    const [entry] = await audits(project.id, "project.created");
    expect(entry).toMatchObject({
      actorId: globalManager.id,
      targetType: "project",
      targetId: project.id,
      details: { name: `Street scenes ${unique}`, description: "Cars and people" },
    });
    // The creator sees it in their list and may manage it.
    const list = await callerFor(globalManager).project.list();
    expect(list.map((p) => p.id)).toContain(project.id);
    expect(await callerFor(globalManager).work.assignments({ projectId: project.id })).toMatchObject({
      leases: [],
    });
  });

  it("lets admins create projects; description defaults to empty", async () => {
    const project = await callerFor(admin).project.create({ name: `Admin made ${unique}` });
    expect(project.description).toBe("");
    expect(await memberRole(project.id, admin.id)).toBe("manager");
  });

  it("refuses annotators (FORBIDDEN), anonymous callers (UNAUTHORIZED), bad names and duplicates", async () => {
    await expect(callerFor(globalAnnotator).project.create({ name: `nope ${unique}` })).rejects.toMatchObject(
      {
        code: "FORBIDDEN",
      },
    );
    await expect(callerFor(null).project.create({ name: `nope ${unique}` })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    await expect(callerFor(globalManager).project.create({ name: "   " })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    const name = `Twice ${unique}`;
    await callerFor(globalManager).project.create({ name });
    await expect(callerFor(admin).project.create({ name })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `a project named "${name}" already exists`,
    });
    expect(await prisma().project.count({ where: { name: { startsWith: "nope" } } })).toBe(0);
    expect(await prisma().project.count({ where: { name } })).toBe(1);
  });
});

describe("project membership", () => {
  let manager: Actor;
  let annotator: Actor;
  let outsider: Actor;
  let projectId: string;

  beforeAll(async () => {
    // A project manager need not be a global manager.
    manager = await makeUser("pm", "annotator");
    annotator = await makeUser("member", "annotator");
    outsider = await makeUser("outsider", "manager");
    projectId = await makeProject("members", [
      [manager, "manager"],
      [annotator, "annotator"],
    ]);
  });

  it("shows the members to any member and to admins, managers first", async () => {
    for (const actor of [manager, annotator, admin]) {
      const members = await callerFor(actor).project.members({ projectId });
      expect(members).toEqual([
        {
          userId: manager.id,
          name: `pm ${unique}`,
          email: emailOf("pm"),
          role: "manager",
          active: true,
          joinedAt: expect.any(Date),
        },
        expect.objectContaining({ userId: annotator.id, role: "annotator" }),
      ]);
    }
    await expect(callerFor(outsider).project.members({ projectId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(callerFor(null).project.members({ projectId })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    await expect(
      callerFor(admin).project.members({ projectId: "00000000-0000-4000-8000-00000000beef" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("adds a member by email (any case) or id, audited; refuses unknown, duplicate and inactive users", async () => {
    const newbie = await makeUser("newbie");
    const byId = await makeUser("byid");
    const inactive = await makeUser("inactive", "annotator", false);
    const pm = callerFor(manager);

    const added = await pm.project.addMember({
      projectId,
      email: emailOf("newbie").toUpperCase(),
      role: "annotator",
    });
    expect(added).toMatchObject({
      userId: newbie.id,
      email: emailOf("newbie"),
      role: "annotator",
      active: true,
    });
    expect(await pm.project.addMember({ projectId, userId: byId.id, role: "reviewer" })).toMatchObject({
      userId: byId.id,
      role: "reviewer",
    });
    expect(await memberRole(projectId, newbie.id)).toBe("annotator");
    expect(await memberRole(projectId, byId.id)).toBe("reviewer");
    const entries = await audits(projectId, "project.member_added");
    expect(entries.map((e) => [e.actorId, e.targetId, e.details])).toEqual([
      [manager.id, newbie.id, { email: emailOf("newbie"), after: { role: "annotator" } }],
      [manager.id, byId.id, { email: emailOf("byid"), after: { role: "reviewer" } }],
    ]);

    await expect(
      pm.project.addMember({ projectId, email: `nobody-${unique}@project.test`, role: "annotator" }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `no user has the email nobody-${unique}@project.test`,
    });
    await expect(
      pm.project.addMember({ projectId, userId: newbie.id, role: "manager" }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: `${emailOf("newbie")} is already a member of this project (annotator)`,
    });
    expect(await memberRole(projectId, newbie.id)).toBe("annotator");
    await expect(
      pm.project.addMember({ projectId, userId: inactive.id, role: "annotator" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      pm.project.addMember({ projectId, userId: inactive.id, email: emailOf("inactive"), role: "annotator" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(pm.project.addMember({ projectId, role: "annotator" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await audits(projectId, "project.member_added")).toHaveLength(2);
  });

  it("lets only the project's managers and admins change membership", async () => {
    const target = await makeUser("target");
    // Started one at a time, each awaited: calls made all at once and awaited in turn reject before
    // their turn, unhandled (a flaky run once the access check got fast).
    const calls = (actor: Actor | null) => [
      () => callerFor(actor).project.addMember({ projectId, userId: target.id, role: "annotator" }),
      () => callerFor(actor).project.setMemberRole({ projectId, userId: annotator.id, role: "manager" }),
      () => callerFor(actor).project.removeMember({ projectId, userId: manager.id }),
    ];
    for (const call of calls(annotator)) await expect(call()).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Outsiders cannot even tell the project exists, global manager or not.
    for (const call of calls(outsider)) await expect(call()).rejects.toMatchObject({ code: "NOT_FOUND" });
    for (const call of calls(null)) await expect(call()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await memberRole(projectId, target.id)).toBeNull();
    expect(await memberRole(projectId, annotator.id)).toBe("annotator");
    expect(await memberRole(projectId, manager.id)).toBe("manager");

    // An admin who is not a member may.
    await callerFor(admin).project.addMember({ projectId, userId: target.id, role: "annotator" });
    expect(await memberRole(projectId, target.id)).toBe("annotator");
  });

  it("changes roles with before/after in the audit, and keeps at least one manager", async () => {
    const pm = callerFor(manager);
    expect(await pm.project.setMemberRole({ projectId, userId: annotator.id, role: "reviewer" })).toEqual({
      userId: annotator.id,
      role: "reviewer",
      changed: true,
    });
    const [entry] = await audits(projectId, "project.member_role_changed");
    expect(entry).toMatchObject({
      actorId: manager.id,
      targetId: annotator.id,
      details: { before: { role: "annotator" }, after: { role: "reviewer" } },
    });
    expect(
      await pm.project.setMemberRole({ projectId, userId: annotator.id, role: "reviewer" }),
    ).toMatchObject({
      changed: false,
    });

    // The only manager cannot step down or leave...
    await expect(
      pm.project.setMemberRole({ projectId, userId: manager.id, role: "annotator" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/at least one manager/) });
    await expect(pm.project.removeMember({ projectId, userId: manager.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await memberRole(projectId, manager.id)).toBe("manager");
    // ...until there is another one.
    await pm.project.setMemberRole({ projectId, userId: annotator.id, role: "manager" });
    await pm.project.setMemberRole({ projectId, userId: manager.id, role: "annotator" });
    expect(await memberRole(projectId, manager.id)).toBe("annotator");
    await expect(
      callerFor(manager).project.setMemberRole({ projectId, userId: manager.id, role: "manager" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await callerFor(annotator).project.setMemberRole({ projectId, userId: manager.id, role: "manager" });
    expect(await audits(projectId, "project.member_role_changed")).toHaveLength(4);

    await expect(
      pm.project.setMemberRole({ projectId, userId: outsider.id, role: "annotator" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lets an admin remove or demote the last manager", async () => {
    const pmOnly = await makeUser("lonely-pm");
    const other = await makeUser("lonely-other");
    const lonely = await makeProject("lonely", [
      [pmOnly, "manager"],
      [other, "annotator"],
    ]);
    await callerFor(admin).project.setMemberRole({ projectId: lonely, userId: pmOnly.id, role: "reviewer" });
    expect(await memberRole(lonely, pmOnly.id)).toBe("reviewer");
    await callerFor(admin).project.setMemberRole({ projectId: lonely, userId: pmOnly.id, role: "manager" });
    await callerFor(admin).project.removeMember({ projectId: lonely, userId: pmOnly.id });
    expect(await memberRole(lonely, pmOnly.id)).toBeNull();
    expect(await prisma().projectMember.count({ where: { projectId: lonely, role: "manager" } })).toBe(0);
  });

  it("removes a member, releasing their leases in the project, audited", async () => {
    const leaver = await makeUser("leaver");
    const pid = await makeProject("removal", [
      [manager, "manager"],
      [leaver, "annotator"],
    ]);
    const [img] = await makeImages(pid, "removal", ["ready", "ready"]);
    const lease = await callerFor(leaver).work.next({ projectId: pid });
    expect(lease?.imageId).toBe(img);

    expect(await callerFor(manager).project.removeMember({ projectId: pid, userId: leaver.id })).toEqual({
      userId: leaver.id,
      leasesReleased: 1,
    });
    expect(await memberRole(pid, leaver.id)).toBeNull();
    const rows = await prisma().assignment.findMany({
      where: { userId: leaver.id },
      select: { status: true },
    });
    expect(rows).toEqual([{ status: "released" }]);
    const [entry] = await audits(pid, "project.member_removed");
    expect(entry).toMatchObject({
      actorId: manager.id,
      targetId: leaver.id,
      details: { email: emailOf("leaver"), before: { role: "annotator" }, leasesReleased: 1 },
    });
    // They are now an outsider.
    await expect(callerFor(leaver).work.next({ projectId: pid })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(
      callerFor(manager).project.removeMember({ projectId: pid, userId: leaver.id }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("never loses the last manager when two managers step down at once", async () => {
    const a = await makeUser("duo-a");
    const b = await makeUser("duo-b");
    const pid = await makeProject("duo", [
      [a, "manager"],
      [b, "manager"],
    ]);
    const results = await Promise.allSettled([
      callerFor(a).project.setMemberRole({ projectId: pid, userId: a.id, role: "annotator" }),
      callerFor(b).project.removeMember({ projectId: pid, userId: b.id }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")?.reason).toMatchObject({ code: "BAD_REQUEST" });
    expect(await prisma().projectMember.count({ where: { projectId: pid, role: "manager" } })).toBe(1);
  });
});

describe("work.assignments and work.reassign", () => {
  let manager: Actor;
  let ann: Actor;
  let bea: Actor;
  let outsider: Actor;
  let projectId: string;
  let img: string[];

  beforeAll(async () => {
    manager = await makeUser("wm");
    ann = await makeUser("ann");
    bea = await makeUser("bea");
    outsider = await makeUser("wout", "manager");
    projectId = await makeProject("work", [
      [manager, "manager"],
      [ann, "annotator"],
      [bea, "annotator"],
    ]);
    img = await makeImages(projectId, "work", ["ready", "ready", "ready", "ready", "embedding", "failed"]);
  });

  it("shows leases, completed counts per member and images still waiting", async () => {
    await callerFor(ann).work.next({ projectId }); // img0 leased to ann
    await callerFor(bea).work.next({ projectId }); // img1 leased to bea
    await callerFor(bea).work.submit({ imageId: img[1]!, confirmEmpty: true });

    const view = await callerFor(manager).work.assignments({ projectId });
    expect(view.leases).toEqual([
      {
        assignmentId: expect.any(String),
        imageId: img[0],
        filename: "work-0.jpg",
        userId: ann.id,
        userName: `ann ${unique}`,
        userEmail: emailOf("ann"),
        leasedAt: expect.any(Date),
        expiresAt: expect.any(Date),
      },
    ]);
    expect(view.leases[0]!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(view.annotators).toEqual([
      {
        userId: bea.id,
        name: `bea ${unique}`,
        email: emailOf("bea"),
        role: "annotator",
        completed: 1,
        activeLeases: 0,
      },
      {
        userId: ann.id,
        name: `ann ${unique}`,
        email: emailOf("ann"),
        role: "annotator",
        completed: 0,
        activeLeases: 1,
      },
      {
        userId: manager.id,
        name: `wm ${unique}`,
        email: emailOf("wm"),
        role: "manager",
        completed: 0,
        activeLeases: 0,
      },
    ]);
    // Neither leased nor completed nor failed: images 2, 3 and the one still embedding.
    expect(view.available.map((a) => a.imageId)).toEqual([img[2], img[3], img[4]]);
    expect(view.available[2]).toEqual({ imageId: img[4], filename: "work-4.jpg", status: "embedding" });

    // Expired leases are not shown.
    await prisma().assignment.updateMany({
      where: { userId: ann.id, status: "active" },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const later = await callerFor(manager).work.assignments({ projectId });
    expect(later.leases).toEqual([]);
    expect(later.available.map((a) => a.imageId)).toEqual([img[0], img[2], img[3], img[4]]);
  });

  it("is for the project's managers and admins only", async () => {
    expect((await callerFor(admin).work.assignments({ projectId })).annotators).toHaveLength(3);
    await expect(callerFor(ann).work.assignments({ projectId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(outsider).work.assignments({ projectId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(callerFor(null).work.assignments({ projectId })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });

    // A reviewer sees every image but manages nothing; an annotator on the image she holds likewise.
    const reviewer = await makeUser("wreviewer");
    await prisma().projectMember.create({ data: { projectId, userId: reviewer.id, role: "reviewer" } });
    await expect(callerFor(reviewer).work.reassign({ imageId: img[2]!, userId: null })).rejects.toMatchObject(
      {
        code: "FORBIDDEN",
      },
    );
    await expect(callerFor(reviewer).work.assignments({ projectId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(callerFor(ann).work.reassign({ imageId: img[0]!, userId: ann.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await prisma().projectMember.delete({ where: { projectId_userId: { projectId, userId: reviewer.id } } });
    await expect(callerFor(outsider).work.reassign({ imageId: img[2]!, userId: null })).rejects.toMatchObject(
      {
        code: "NOT_FOUND",
      },
    );
    await expect(callerFor(null).work.reassign({ imageId: img[2]!, userId: null })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    await expect(
      callerFor(manager).work.reassign({ imageId: "00000000-0000-4000-8000-00000000f00d", userId: null }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await prisma().assignment.count({ where: { imageId: img[2]! } })).toBe(0);
  });

  it("assigns a free image to a member, moves it to another, and releases it, each audited", async () => {
    const pm = callerFor(manager);
    const assigned = await pm.work.reassign({ imageId: img[2]!, userId: ann.id });
    expect(assigned).toMatchObject({
      imageId: img[2],
      projectId,
      releasedFrom: [],
      lease: { userId: ann.id },
    });
    // A manager's assignment does not expire (it used to become a lease of the project's lease time):
    // it holds until released, submitted or skipped, and the image is Ann's, in progress.
    expect(assigned.lease!.expiresAt).toBeNull();
    expect(
      await prisma().image.findUniqueOrThrow({
        where: { id: img[2]! },
        select: { workflowState: true, annotatorId: true },
      }),
    ).toEqual({ workflowState: "in_progress", annotatorId: ann.id });
    // Ann's "next image" hands her the assigned image first.
    expect((await callerFor(ann).work.next({ projectId }))?.imageId).toBe(img[2]);

    const moved = await pm.work.reassign({ imageId: img[2]!, userId: bea.id });
    expect(moved.releasedFrom).toEqual([ann.id]);
    const rows = await prisma().assignment.findMany({
      where: { imageId: img[2]! },
      orderBy: { leasedAt: "asc" },
      select: { userId: true, status: true },
    });
    expect(rows).toEqual([
      { userId: ann.id, status: "released" },
      { userId: bea.id, status: "active" },
    ]);
    expect((await callerFor(bea).work.current({ projectId })).map((l) => l.imageId)).toEqual([img[2]]);

    const released = await pm.work.reassign({ imageId: img[2]!, userId: null });
    expect(released).toMatchObject({ releasedFrom: [bea.id], lease: null });
    expect(await prisma().assignment.count({ where: { imageId: img[2]!, status: "active" } })).toBe(0);
    expect(await callerFor(bea).work.current({ projectId })).toEqual([]);

    const entries = await audits(projectId, "assignment.reassigned");
    expect(entries.map((e) => [e.actorId, e.targetType, e.details])).toEqual([
      [
        manager.id,
        "assignment",
        {
          imageId: img[2],
          before: { userIds: [], assignmentIds: [] },
          after: { userId: ann.id, assignmentId: assigned.lease!.assignmentId },
        },
      ],
      [
        manager.id,
        "assignment",
        {
          imageId: img[2],
          before: { userIds: [ann.id], assignmentIds: [expect.any(String)] },
          after: { userId: bea.id, assignmentId: moved.lease!.assignmentId },
        },
      ],
      [
        manager.id,
        "assignment",
        {
          imageId: img[2],
          before: { userIds: [bea.id], assignmentIds: [moved.lease!.assignmentId] },
          after: { userId: null, assignmentId: null },
        },
      ],
    ]);
  });

  it("refuses to assign to someone outside the project or deactivated", async () => {
    const pm = callerFor(manager);
    await expect(pm.work.reassign({ imageId: img[3]!, userId: outsider.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/not a member/),
    });
    const gone = await makeUser("gone", "annotator", false);
    await prisma().projectMember.create({ data: { projectId, userId: gone.id, role: "annotator" } });
    await expect(pm.work.reassign({ imageId: img[3]!, userId: gone.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await prisma().assignment.count({ where: { imageId: img[3]! } })).toBe(0);
  });

  it("reassigns 20 different images at once without collisions", async () => {
    const crowd = await Promise.all(Array.from({ length: 20 }, (_, i) => makeUser(`crowd${i}`)));
    const pid = await makeProject("crowd", [
      [manager, "manager"],
      ...crowd.map((u): [Actor, ProjectRole] => [u, "annotator"]),
    ]);
    const images = await makeImages(pid, "crowd", Array<ImageStatus>(20).fill("ready"));
    // Half of them are already leased to someone else: those leases must end as released.
    await Promise.all(
      images
        .slice(0, 10)
        .map((imageId, i) => callerFor(manager).work.reassign({ imageId, userId: crowd[19 - i]!.id })),
    );

    const results = await Promise.all(
      images.map((imageId, i) => callerFor(manager).work.reassign({ imageId, userId: crowd[i]!.id })),
    );
    expect(results.map((r) => r.lease?.userId)).toEqual(crowd.map((u) => u.id));
    const active = await prisma().assignment.findMany({
      where: { status: "active", image: { projectId: pid } },
      select: { imageId: true, userId: true },
    });
    expect(active).toHaveLength(20);
    expect(new Set(active.map((a) => a.imageId)).size).toBe(20);
    for (const [i, imageId] of images.entries()) {
      expect(active.find((a) => a.imageId === imageId)?.userId).toBe(crowd[i]!.id);
    }
    expect(
      await prisma().assignment.count({ where: { status: "released", image: { projectId: pid } } }),
    ).toBe(10);
    expect(await audits(pid, "assignment.reassigned")).toHaveLength(30);
  });

  it("never leaves an image with two live leases when reassigns race annotators pressing next", async () => {
    const crowd = await Promise.all(Array.from({ length: 8 }, (_, i) => makeUser(`race${i}`)));
    const target = await makeUser("race-target");
    const pid = await makeProject("race", [
      [manager, "manager"],
      [target, "annotator"],
      ...crowd.map((u): [Actor, ProjectRole] => [u, "annotator"]),
    ]);
    const images = await makeImages(pid, "race", Array<ImageStatus>(8).fill("ready"));
    await Promise.all([
      ...images.map((imageId) => callerFor(manager).work.reassign({ imageId, userId: target.id })),
      ...crowd.map((u) => callerFor(u).work.next({ projectId: pid })),
    ]);
    const live = await prisma().assignment.groupBy({
      by: ["imageId"],
      // Live: unexpired leases and managers' assignments (which have no expiry).
      where: {
        status: "active",
        OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
        image: { projectId: pid },
      },
      _count: { _all: true },
    });
    expect(live.every((g) => g._count._all === 1)).toBe(true);
  });
});
