import type { SessionUser } from "@sas/auth";
import { modelVersionForProject, Prisma, type PrismaClient } from "@sas/db";
import { cocoRleSchema } from "@sas/sa1b";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { assertCanViewImage } from "../access";
import { announcedProcedure } from "../announced";
import { maskEvents } from "../services/mask-events";
import {
  assertRleFitsImage,
  conflict,
  type MaskView,
  maskGeometry,
  maskView,
  maskViewSelect,
  rleJson,
  staleVersion,
  toMaskView,
} from "../services/masks";
import { canReview } from "../services/review";
import { protectedProcedure, router } from "../trpc";

// Bounds: generous for real work, small enough that one request cannot make the server chew for long.
const MAX_COORDINATE = 1_000_000;
const MAX_PROMPTS = 1_000;
const MAX_POINT_COORDS = 1_000;
const MAX_BRUSH_POINTS = 100_000;
/** A 100-megapixel mask with a busy outline still fits; counts strings are a few bytes per run. */
const MAX_RLE_COUNTS_LENGTH = 16_000_000;
const MAX_COUNTER = 1_000_000;
/** A week: generous for one mask, and far inside an Int column. */
const MAX_ACTIVE_MS = 7 * 24 * 3600 * 1000;

const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);
const xy = z.tuple([coordinate, coordinate]);

/** The length bound is checked before cocoRleSchema decodes the counts, so it also bounds that work. */
const rleInput = z
  .object({
    size: z.tuple([z.number(), z.number()]),
    counts: z.string().max(MAX_RLE_COUNTS_LENGTH),
  })
  .pipe(cocoRleSchema);

const promptSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("point"),
    x: coordinate,
    y: coordinate,
    label: z.union([z.literal(0), z.literal(1)]),
  }),
  z.object({ type: z.literal("box"), x0: coordinate, y0: coordinate, x1: coordinate, y1: coordinate }),
  z.object({
    type: z.literal("brush"),
    mode: z.enum(["paint", "erase"]),
    radius: z.number().positive().max(10_000),
    points: z.array(xy).min(1).max(MAX_BRUSH_POINTS),
  }),
]);

const promptsSchema = z
  .array(promptSchema)
  .max(MAX_PROMPTS)
  .refine(
    (prompts) =>
      prompts.reduce((n, p) => n + (p.type === "brush" ? p.points.length : 0), 0) <= MAX_BRUSH_POINTS,
    { message: `brush strokes may have at most ${MAX_BRUSH_POINTS} points in all` },
  );

const counter = z.number().int().min(0).max(MAX_COUNTER);

/** A Date (superjson keeps them), or its ISO string: a client's offline outbox stores inputs as JSON. */
const dateInput = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);

const timingSchema = z
  .object({
    startedAt: dateInput,
    finishedAt: dateInput,
    activeMs: z.number().int().min(0).max(MAX_ACTIVE_MS),
    clicks: counter,
    boxes: counter,
    brushStrokes: counter,
    undos: counter,
  })
  .refine((t) => t.finishedAt.getTime() >= t.startedAt.getTime(), {
    message: "finishedAt is before startedAt",
    path: ["finishedAt"],
  });

const labelSchema = z.string().trim().max(200);
const predictedIouSchema = z.number().min(-1).max(2).nullable();
const stabilityScoreSchema = z.number().min(0).max(1).nullable();
const pointCoordsSchema = z.array(xy).max(MAX_POINT_COORDS);

export type MaskPrompt = z.infer<typeof promptSchema>;
export type MaskTimingInput = z.infer<typeof timingSchema>;

type Caller = Pick<SessionUser, "id" | "role">;

/**
 * A mask the caller may change: it is on an image they can see (NOT_FOUND otherwise, as for images),
 * and it is theirs unless they manage the project (FORBIDDEN otherwise).
 */
async function editableMask(db: PrismaClient, user: Caller, id: string) {
  const mask = await db.mask.findUnique({
    where: { id },
    select: {
      id: true,
      authorId: true,
      status: true,
      version: true,
      image: { select: { id: true, projectId: true, width: true, height: true } },
    },
  });
  if (!mask) throw new TRPCError({ code: "NOT_FOUND", message: "mask not found" });
  let canManage: boolean;
  try {
    // The image's rule, not only the project's: annotators reach masks only on images assigned to them.
    ({ canManage } = (await assertCanViewImage(db, user, mask.image.id)).access);
  } catch (error) {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") {
      throw new TRPCError({ code: "NOT_FOUND", message: "mask not found" });
    }
    throw error;
  }
  if (!canManage && mask.authorId !== user.id) {
    throw new TRPCError({ code: "FORBIDDEN", message: "annotators may change only their own masks" });
  }
  return mask;
}

/**
 * Deletes or restores a mask read at `version`. A deleted mask changes only through a restore and a live
 * one becomes deleted only through a delete, so finding the target state at `version + 1` means this very
 * request already ran (a retry after a lost answer) and it is answered as done.
 */
async function setDeleted(
  db: PrismaClient,
  user: Caller,
  input: { id: string; version: number },
  deleted: boolean,
): Promise<MaskView> {
  const mask = await editableMask(db, user, input.id);
  const done = (m: { status: string; version: number }) =>
    (m.status === "deleted") === deleted && m.version === input.version + 1;
  if (done(mask)) return maskView(db, input.id);
  const { count } = await db.mask.updateMany({
    where: { id: input.id, version: input.version, status: deleted ? { not: "deleted" } : "deleted" },
    data: { status: deleted ? "deleted" : "accepted", version: { increment: 1 } },
  });
  if (count === 0) {
    const current = await db.mask.findUnique({
      where: { id: input.id },
      select: { status: true, version: true },
    });
    // The retry of this same request, racing the check above.
    if (current && done(current)) return maskView(db, input.id);
    if (current && current.version === input.version) {
      throw conflict(`the mask is ${deleted ? "already deleted" : "not deleted"}`, current.version);
    }
    throw await staleVersion(db, input.id, input.version);
  }
  return maskView(db, input.id);
}

export const annotateRouter = router({
  /** Everything the annotation page needs about one image: its masks (not deleted), who made them, how long they took. */
  image: protectedProcedure.input(z.object({ imageId: z.uuid() })).query(async ({ ctx, input }) => {
    const { image, access } = await assertCanViewImage(ctx.db, ctx.user, input.imageId);
    const [project, modelVersion, masks] = await Promise.all([
      ctx.db.project.findUniqueOrThrow({ where: { id: image.projectId }, select: { name: true } }),
      modelVersionForProject(ctx.db, image.projectId),
      ctx.db.mask.findMany({
        where: { imageId: image.id, status: { not: "deleted" } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        select: maskViewSelect,
      }),
    ]);
    return {
      image: {
        id: image.id,
        projectId: image.projectId,
        filename: image.filename,
        width: image.width,
        height: image.height,
        status: image.status,
      },
      projectName: project.name,
      modelVersionId: modelVersion?.id ?? null,
      masks: masks.map(toMaskView),
      canEditAll: access.canManage,
      canReview: canReview(access),
    };
  }),

  /**
   * Accepts a mask made on the annotation page, with its timing. The id comes from the client, so a save
   * retried after a lost response returns the stored mask instead of making a second one.
   */
  saveMask: announcedProcedure("saved")
    .input(
      z.object({
        id: z.uuid(),
        imageId: z.uuid(),
        rle: rleInput,
        predictedIou: predictedIouSchema,
        stabilityScore: stabilityScoreSchema,
        pointCoords: pointCoordsSchema,
        prompts: promptsSchema,
        label: labelSchema,
        timing: timingSchema,
      }),
    )
    .mutation(async ({ ctx, input }): Promise<MaskView> => {
      const { image } = await assertCanViewImage(ctx.db, ctx.user, input.imageId);

      const retried = async (): Promise<MaskView | null> => {
        const existing = await ctx.db.mask.findUnique({
          where: { id: input.id },
          select: { authorId: true, imageId: true },
        });
        if (!existing) return null;
        if (existing.authorId !== ctx.user.id || existing.imageId !== input.imageId) {
          throw conflict("a different mask already has this id");
        }
        return maskView(ctx.db, input.id);
      };
      const earlier = await retried();
      if (earlier) return earlier;

      assertRleFitsImage(input.rle, image);
      const { area, bbox } = maskGeometry(input.rle);
      const modelVersion = await modelVersionForProject(ctx.db, image.projectId);
      const rle = rleJson(input.rle);
      try {
        return await ctx.db.$transaction(async (tx) => {
          await tx.mask.create({
            data: {
              id: input.id,
              imageId: image.id,
              rle,
              bbox,
              area,
              predictedIou: input.predictedIou,
              stabilityScore: input.stabilityScore,
              pointCoords: input.pointCoords,
              prompts: input.prompts,
              // SA-1B's crop_box for a mask made on the whole image.
              cropBox: [0, 0, image.width, image.height],
              source: "manual",
              stage: "assisted_manual",
              modelVersionId: modelVersion?.id ?? null,
              authorId: ctx.user.id,
              label: input.label,
              status: "accepted",
            },
          });
          await tx.maskTiming.create({
            data: { maskId: input.id, annotatorId: ctx.user.id, ...input.timing },
          });
          return maskView(tx, input.id);
        });
      } catch (error) {
        // Two copies of the same save racing: the primary key picks one; the other answers as a retry.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
          const winner = await retried();
          if (winner) return winner;
        }
        throw error;
      }
    }),

  /**
   * Changes a mask the caller read at `version`. The write is conditional on that version, so of two
   * people editing from the same read exactly one wins and the other gets CONFLICT with the current
   * version. `timing` is added to the stored timing (the extra work spent editing).
   */
  updateMask: announcedProcedure("updated")
    .input(
      z.object({
        id: z.uuid(),
        version: z.number().int().min(1),
        label: labelSchema.optional(),
        rle: rleInput.optional(),
        prompts: promptsSchema.optional(),
        pointCoords: pointCoordsSchema.optional(),
        predictedIou: predictedIouSchema.optional(),
        stabilityScore: stabilityScoreSchema.optional(),
        timing: timingSchema.optional(),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<MaskView> => {
      const mask = await editableMask(ctx.db, ctx.user, input.id);
      let geometry: { rle: Prisma.InputJsonObject; area: number; bbox: number[] } | null = null;
      if (input.rle) {
        assertRleFitsImage(input.rle, mask.image);
        geometry = { rle: rleJson(input.rle), ...maskGeometry(input.rle) };
      }
      const { timing } = input;
      const updated = await ctx.db.$transaction(async (tx) => {
        const { count } = await tx.mask.updateMany({
          where: { id: input.id, version: input.version, status: { not: "deleted" } },
          data: {
            version: { increment: 1 },
            ...(input.label === undefined ? {} : { label: input.label }),
            ...(input.prompts === undefined ? {} : { prompts: input.prompts }),
            ...(input.pointCoords === undefined ? {} : { pointCoords: input.pointCoords }),
            ...(input.predictedIou === undefined ? {} : { predictedIou: input.predictedIou }),
            ...(input.stabilityScore === undefined ? {} : { stabilityScore: input.stabilityScore }),
            ...(geometry ?? {}),
          },
        });
        if (count === 0) return null;
        if (timing) {
          await tx.maskTiming.upsert({
            where: { maskId: input.id },
            create: { maskId: input.id, annotatorId: ctx.user.id, ...timing },
            update: {
              finishedAt: timing.finishedAt,
              activeMs: { increment: timing.activeMs },
              clicks: { increment: timing.clicks },
              boxes: { increment: timing.boxes },
              brushStrokes: { increment: timing.brushStrokes },
              undos: { increment: timing.undos },
            },
          });
        }
        return maskView(tx, input.id);
      });
      if (!updated) throw await staleVersion(ctx.db, input.id, input.version);
      return updated;
    }),

  /**
   * Soft-deletes a mask the caller read at `version` (status `deleted`, version + 1; the row stays for
   * statistics and audit). Repeating a delete that already happened from that same version answers with
   * the deleted mask; any other version mismatch is a CONFLICT.
   */
  deleteMask: announcedProcedure("deleted")
    .input(z.object({ id: z.uuid(), version: z.number().int().min(1) }))
    .mutation(({ ctx, input }) => setDeleted(ctx.db, ctx.user, input, true)),

  /** Undoes a delete (the mask becomes `accepted` again, version + 1); same rules as deleteMask. */
  restoreMask: announcedProcedure("restored")
    .input(z.object({ id: z.uuid(), version: z.number().int().min(1) }))
    .mutation(({ ctx, input }) => setDeleted(ctx.db, ctx.user, input, false)),

  /**
   * Live changes to the masks of an image the caller may view (server-sent events): saves, edits,
   * deletes, restores and reviews by anyone, the caller included (their other tabs follow too).
   */
  events: protectedProcedure.input(z.object({ imageId: z.uuid() })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    await assertCanViewImage(ctx.db, ctx.user, input.imageId);
    yield* maskEvents(input.imageId, signal);
  }),
});
