import type { PrismaClient } from "../../generated/prisma/client";

/**
 * What the filter controls offer for a project: its members (anyone who can author masks), the model
 * versions (a small table), and its finished exports (their selections can be described).
 */
export interface StatsFilterOptions {
  annotators: { id: string; name: string; role: string }[];
  modelVersions: { id: string; name: string }[];
  exports: { id: string; createdAt: Date; maskCount: number }[];
}

export async function statsFilterOptions(db: PrismaClient, projectId: string): Promise<StatsFilterOptions> {
  const [members, versions, exports] = await Promise.all([
    db.projectMember.findMany({
      where: { projectId },
      select: { role: true, user: { select: { id: true, name: true } } },
      orderBy: { user: { name: "asc" } },
    }),
    db.modelVersion.findMany({ select: { id: true, name: true }, orderBy: { createdAt: "asc" } }),
    db.export.findMany({
      where: { projectId, status: "completed" },
      select: { id: true, createdAt: true, maskCount: true },
      orderBy: { createdAt: "desc" },
      take: 50,
    }),
  ]);
  return {
    annotators: members.map((m) => ({ id: m.user.id, name: m.user.name, role: m.role })),
    modelVersions: versions,
    exports,
  };
}
