import { auth } from "@sas/auth";
import { createUserWithPassword, disconnectPrisma, prisma } from "@sas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "./route";

async function signIn(email: string, password: string): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`sign-in failed for ${email}`);
  return cookie.split(";")[0]!;
}

/** The per-mask CSV behind the dashboard: rows, filters, paging across batches, bad input. */
describe("GET /api/projects/:projectId/stats/:view", () => {
  let projectId: string;
  let cookie: string;
  const masks = 12_000; // more than two keyset batches of 5000

  beforeAll(async () => {
    const db = prisma();
    const tag = Date.now();
    projectId = (await db.project.create({ data: { name: `stats-route-${tag}` } })).id;
    const password = "correct horse battery staple";
    const manager = await createUserWithPassword(db, {
      email: `stats-route-${tag}@t.local`,
      name: "manager",
      role: "annotator",
      password,
    });
    await db.projectMember.create({ data: { projectId, userId: manager.id, role: "manager" } });
    cookie = await signIn(manager.email, password);
    const image = await db.image.create({
      data: {
        projectId,
        filename: "a,b.jpg",
        mimeType: "image/jpeg",
        width: 100,
        height: 100,
        sizeBytes: 1n,
        sha256: `${tag}`.padStart(64, "0"),
        storageKey: "images/stats-route/a",
        status: "ready",
      },
    });
    // Every third mask semi-automatic; all made on 2 March 2026.
    await db.$executeRaw`
      INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "cropBox", source, stage, "createdAt", "updatedAt")
      SELECT gen_random_uuid(), ${image.id}::uuid, '{"size": [100, 100], "counts": "0"}', '{10,10,20,20}', 400,
        '{}', (CASE WHEN g % 3 = 0 THEN 'semi_auto' ELSE 'manual' END)::"MaskSource",
        (CASE WHEN g % 3 = 0 THEN 'semi_automatic' ELSE 'assisted_manual' END)::"Stage",
        timestamp '2026-03-02 09:00', now()
      FROM generate_series(1, ${masks}) g`;
  });

  afterAll(async () => {
    await prisma().project.delete({ where: { id: projectId } });
    await disconnectPrisma();
  });

  const call = (view: string, query = "") =>
    GET(
      new Request(`http://localhost/api/projects/${projectId}/stats/${view}${query}`, {
        headers: { cookie },
      }),
      { params: Promise.resolve({ projectId, view }) },
    );

  it("streams every row of the view, once, as CSV with a header", async () => {
    const response = await call("dataset");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="stats-dataset.csv"');
    const lines = (await response.text()).trimEnd().split("\r\n");
    expect(lines[0]!.split(",").slice(0, 5)).toEqual(["maskId", "imageId", "filename", "createdAt", "stage"]);
    expect(lines).toHaveLength(masks + 1);
    expect(new Set(lines.slice(1).map((l) => l.split(",")[0])).size).toBe(masks);
    // The file name holds a comma, so it is quoted; relative size sqrt(400 / 10000) = 0.2, centre (0.2, 0.2).
    expect(lines[1]).toContain(',"a,b.jpg",2026-03-02T09:00:00.000Z,');
    expect(lines[1]!.endsWith(",400,100,100,0.2,0.2,0.2")).toBe(true);
  });

  it("applies the filters from the query string", async () => {
    const response = await call("dataset", "?stage=semi_automatic");
    const lines = (await response.text()).trimEnd().split("\r\n");
    expect(lines).toHaveLength(masks / 3 + 1);
    expect(lines.slice(1).every((l) => l.includes(",semi_automatic,semi_auto,"))).toBe(true);
    const none = await call("dataset", `?from=${encodeURIComponent("2026-03-03T00:00:00Z")}`);
    expect((await none.text()).trimEnd().split("\r\n")).toHaveLength(1);
    // No timings were recorded: the timing table is empty.
    expect((await (await call("timing")).text()).trimEnd().split("\r\n")).toHaveLength(1);
  });

  it("refuses bad filters and unknown views with a clear 4xx", async () => {
    const bad = await call("dataset", "?stage=nope");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("bad filters");
    const reversed = await call("dataset", "?from=2026-03-03&to=2026-03-01");
    expect(reversed.status).toBe(400);
    expect((await call("everything")).status).toBe(404);
  });
});
