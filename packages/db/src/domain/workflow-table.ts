/**
 * The project image table for managers and reviewers: one page of images with their workflow state,
 * annotator, mask count and time spent, filtered and sorted on the server so it stays quick at 100k
 * images. Pages are keyset pages on (sort column, id), each served by an index on Image (see
 * schema.prisma), so page 2,000 costs what page 1 does; mask counts and time are computed for the page's
 * rows only. Filters that look at masks (has masks, review outcome, label) are EXISTS probes on the
 * Mask (imageId, status) index. Counting every match is the one cost that grows with the project (a
 * page is ~1 ms at 100k images, the count of a mask filter a few hundred), so it is made once, for the
 * first page; later pages answer `total: null` and the client keeps the first page's.
 */
import { z } from "zod";
import type { ImageStatus, ImageWorkflowState, Prisma, PrismaClient } from "../generated/prisma/client";
import { WORKFLOW_STATES, WorkflowError } from "./workflow";

export const TABLE_SORTS = ["created", "filename", "updated"] as const;
export type TableSort = (typeof TABLE_SORTS)[number];
export const REVIEW_OUTCOMES = ["unreviewed", "approved", "rejected", "corrected"] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

export interface ImageTableQuery {
  projectId: string;
  states?: ImageWorkflowState[];
  /** A user id, or "none" for images nobody has worked on. */
  annotatorId?: string | null;
  hasMasks?: boolean | null;
  /** Images with at least one live mask of this outcome. */
  reviewOutcome?: ReviewOutcome | null;
  /** Images with at least one live mask of this label (exact). */
  label?: string | null;
  sort?: TableSort;
  direction?: "asc" | "desc";
  cursor?: string | null;
  limit?: number;
}

export interface ImageTableRow {
  id: string;
  filename: string;
  width: number;
  height: number;
  /** The embedding's status (ready, embedding, ...). */
  status: ImageStatus;
  state: ImageWorkflowState;
  skipReason: string | null;
  annotatorId: string | null;
  annotatorName: string | null;
  masks: number;
  /** Active time spent on the image's live masks (idle gaps left out), ms. */
  activeMs: number;
  createdAt: Date;
  workflowAt: Date;
}

const sortColumn = { created: "createdAt", filename: "filename", updated: "workflowAt" } as const;

/** The position after a page's last row: its sort value and id. Opaque to clients. */
const cursorSchema = z.object({ v: z.union([z.string(), z.number()]), id: z.uuid() });

function encodeCursor(sort: TableSort, row: ImageTableRow): string {
  const v =
    sort === "filename" ? row.filename : (sort === "created" ? row.createdAt : row.workflowAt).getTime();
  return Buffer.from(JSON.stringify({ v, id: row.id })).toString("base64url");
}

function decodeCursor(sort: TableSort, cursor: string): { value: string | Date; id: string } {
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new WorkflowError("BAD_REQUEST", "that page cursor is not valid; start from the first page");
  }
  if (sort === "filename") {
    if (typeof parsed.v !== "string") throw new WorkflowError("BAD_REQUEST", "that page cursor is not valid");
    return { value: parsed.v, id: parsed.id };
  }
  if (typeof parsed.v !== "number") throw new WorkflowError("BAD_REQUEST", "that page cursor is not valid");
  return { value: new Date(parsed.v), id: parsed.id };
}

const LIVE_MASK: Prisma.MaskWhereInput = { status: { in: ["accepted", "rejected"] } };

/** The filters, without the page position: shared by the page and the total. */
function filterWhere(q: ImageTableQuery): Prisma.ImageWhereInput {
  const and: Prisma.ImageWhereInput[] = [{ projectId: q.projectId }];
  if (q.states && q.states.length > 0) and.push({ workflowState: { in: q.states } });
  if (q.annotatorId === "none") and.push({ annotatorId: null });
  else if (q.annotatorId) and.push({ annotatorId: q.annotatorId });
  if (q.hasMasks === true) and.push({ masks: { some: LIVE_MASK } });
  if (q.hasMasks === false) and.push({ masks: { none: LIVE_MASK } });
  if (q.reviewOutcome === "unreviewed") {
    and.push({ masks: { some: { status: "accepted", reviewDecision: null } } });
  } else if (q.reviewOutcome === "rejected") {
    and.push({ masks: { some: { status: "rejected" } } });
  } else if (q.reviewOutcome) {
    and.push({ masks: { some: { status: "accepted", reviewDecision: q.reviewOutcome } } });
  }
  if (q.label) and.push({ masks: { some: { ...LIVE_MASK, label: q.label } } });
  return { AND: and };
}

/** Rows strictly after the cursor in the page order. */
function afterWhere(
  sort: TableSort,
  direction: "asc" | "desc",
  cursor: { value: string | Date; id: string },
) {
  const column = sortColumn[sort];
  const beyond = direction === "asc" ? "gt" : "lt";
  return {
    OR: [{ [column]: { [beyond]: cursor.value } }, { [column]: cursor.value, id: { [beyond]: cursor.id } }],
  } as Prisma.ImageWhereInput;
}

/**
 * One page of the table, the total matching the filters (first page only, else null), and the cursor
 * of the next page (null on the last). Permission (the project's managers, reviewers and admins) is the
 * API's, checked before.
 */
export async function imageTable(
  db: PrismaClient,
  q: ImageTableQuery,
): Promise<{ items: ImageTableRow[]; total: number | null; nextCursor: string | null }> {
  const sort = q.sort ?? "created";
  const direction = q.direction ?? "asc";
  const limit = q.limit ?? 50;
  const filters = filterWhere(q);
  const where: Prisma.ImageWhereInput = q.cursor
    ? { AND: [filters, afterWhere(sort, direction, decodeCursor(sort, q.cursor))] }
    : filters;
  const [rows, total] = await Promise.all([
    db.image.findMany({
      where,
      orderBy: [{ [sortColumn[sort]]: direction }, { id: direction }],
      take: limit + 1,
      select: {
        id: true,
        filename: true,
        width: true,
        height: true,
        status: true,
        workflowState: true,
        skipReason: true,
        annotatorId: true,
        createdAt: true,
        workflowAt: true,
        annotator: { select: { name: true } },
      },
    }),
    q.cursor ? null : db.image.count({ where: filters }),
  ]);
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [maskCounts, times] = ids.length
    ? await Promise.all([
        db.mask.groupBy({
          by: ["imageId"],
          where: { imageId: { in: ids }, ...LIVE_MASK },
          _count: { _all: true },
        }),
        db.$queryRaw<{ imageId: string; ms: bigint }[]>`
          SELECT m."imageId"::text AS "imageId", COALESCE(SUM(t."activeMs"), 0)::bigint AS ms
          FROM "Mask" m JOIN "MaskTiming" t ON t."maskId" = m.id
          WHERE m."imageId" = ANY(${ids}::uuid[]) AND m.status IN ('accepted', 'rejected')
          GROUP BY m."imageId"`,
      ])
    : [[], []];
  const maskBy = new Map(maskCounts.map((g) => [g.imageId, g._count._all]));
  const timeBy = new Map(times.map((t) => [t.imageId, Number(t.ms)]));
  const items: ImageTableRow[] = page.map((r) => ({
    id: r.id,
    filename: r.filename,
    width: r.width,
    height: r.height,
    status: r.status,
    state: r.workflowState,
    skipReason: r.skipReason,
    annotatorId: r.annotatorId,
    annotatorName: r.annotator?.name ?? null,
    masks: maskBy.get(r.id) ?? 0,
    activeMs: timeBy.get(r.id) ?? 0,
    createdAt: r.createdAt,
    workflowAt: r.workflowAt,
  }));
  const last = items.at(-1);
  return { items, total, nextCursor: rows.length > limit && last ? encodeCursor(sort, last) : null };
}

/** How many of the project's images are in each workflow state (the table's filter chips). */
export async function workflowCounts(
  db: PrismaClient,
  projectId: string,
): Promise<Record<ImageWorkflowState, number>> {
  const groups = await db.image.groupBy({
    by: ["workflowState"],
    where: { projectId },
    _count: { _all: true },
  });
  const counts = Object.fromEntries(WORKFLOW_STATES.map((s) => [s, 0])) as Record<ImageWorkflowState, number>;
  for (const g of groups) counts[g.workflowState] = g._count._all;
  return counts;
}
