import {
  acceptMask,
  deleteMask,
  imageMasksWithModelVersions,
  type MaskView,
  restoreMask,
  saveManualMask,
  updateMask,
} from "@sas/db";
import { z } from "zod";
import { assertCanViewImage } from "../access";
import { announcedProcedure } from "../announced";
import { rleInput, text } from "../inputs";
import { decodingModelVersion } from "../services/embeddings";
import { type MaskEvent, maskEvents } from "../services/mask-events";
import { assertCanViewMask } from "../services/masks";
import { canReview } from "../services/review";
import { protectedProcedure, router } from "../trpc";

// Bounds: generous for real work, small enough that one request cannot make the server chew for long.
const MAX_COORDINATE = 1_000_000;
const MAX_PROMPTS = 1_000;
const MAX_POINT_COORDS = 1_000;
const MAX_BRUSH_POINTS = 100_000;
const MAX_COUNTER = 1_000_000;
/** A week: generous for one mask, and far inside an Int column. */
const MAX_ACTIVE_MS = 7 * 24 * 3600 * 1000;

const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);
const xy = z.tuple([coordinate, coordinate]);

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

const labelSchema = text().trim().max(200);
const predictedIouSchema = z.number().min(-1).max(2).nullable();
const stabilityScoreSchema = z.number().min(0).max(1).nullable();
const pointCoordsSchema = z.array(xy).max(MAX_POINT_COORDS);

/**
 * A change to one mask (input `id`). Permission: the caller sees the mask's image (NOT_FOUND otherwise,
 * as for a missing id); the mask domain then lets annotators change only their own masks and those of
 * automatic passes, the project's managers and admins any (FORBIDDEN otherwise). Announced on success.
 */
const maskChange = (event: MaskEvent["type"]) =>
  announcedProcedure(event)
    .input(z.object({ id: z.uuid() }))
    .use(async ({ ctx, input, next }) => {
      const { access } = await assertCanViewMask(ctx.db, ctx.user, input.id);
      const editor = { userId: ctx.user.id, canEditAll: access.canManage, canReview: canReview(access) };
      return next({ ctx: { ...ctx, editor } });
    });

const versionRef = z.object({ version: z.number().int().min(1) });

export const annotateRouter = router({
  /** Everything the annotation page needs about one image: its masks (not deleted), who made them, how long they took. */
  image: protectedProcedure.input(z.object({ imageId: z.uuid() })).query(async ({ ctx, input }) => {
    const { image, access } = await assertCanViewImage(ctx.db, ctx.user, input.imageId);
    const [modelVersion, { masks, maskModelVersions }] = await Promise.all([
      decodingModelVersion(ctx.db, image),
      imageMasksWithModelVersions(ctx.db, image.id),
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
      projectName: image.projectName,
      modelVersionId: modelVersion?.id ?? null,
      /** The version whose embedding and decoder the page uses for this image (see decodingModelVersion). */
      modelVersionName: modelVersion?.name ?? null,
      /** Mask id -> name of the model version that made it (absent: none recorded). */
      maskModelVersions,
      masks,
      canEditAll: access.canManage,
      canReview: canReview(access),
    };
  }),

  /**
   * Accepts a mask made on the annotation page, with its timing. The id comes from the client, so a save
   * retried after a lost response returns the stored mask instead of making a second one.
   * Permission: the caller sees the image.
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
      return saveManualMask(ctx.db, { userId: ctx.user.id }, input, image);
    }),

  /**
   * Changes a mask the caller read at `version`. The write is conditional on that version, so of two
   * people editing from the same read exactly one wins and the other gets CONFLICT with the current
   * version. `timing` is added to the stored timing (the extra work spent editing).
   */
  updateMask: maskChange("updated")
    .input(
      versionRef.extend({
        label: labelSchema.optional(),
        rle: rleInput.optional(),
        prompts: promptsSchema.optional(),
        pointCoords: pointCoordsSchema.optional(),
        predictedIou: predictedIouSchema.optional(),
        stabilityScore: stabilityScoreSchema.optional(),
        timing: timingSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }): Promise<MaskView> => updateMask(ctx.db, ctx.editor, input)),

  /**
   * Accepts a proposal of a semi-automatic pass read at `version` (it becomes accepted, version + 1);
   * `timing` is the time spent judging it, recorded for the caller. A retried accept answers as done.
   */
  acceptMask: maskChange("updated")
    .input(versionRef.extend({ timing: timingSchema.optional() }))
    .mutation(({ ctx, input }): Promise<MaskView> => acceptMask(ctx.db, ctx.editor, input)),

  /**
   * Soft-deletes a mask the caller read at `version` (status `deleted`, version + 1; the row stays for
   * statistics and audit). Repeating a delete that already happened from that same version answers with
   * the deleted mask; any other version mismatch is a CONFLICT.
   */
  deleteMask: maskChange("deleted")
    .input(versionRef)
    .mutation(({ ctx, input }): Promise<MaskView> => deleteMask(ctx.db, ctx.editor, input)),

  /** Undoes a delete (the mask becomes `accepted` again, version + 1); same rules as deleteMask. */
  restoreMask: maskChange("restored")
    .input(versionRef)
    .mutation(({ ctx, input }): Promise<MaskView> => restoreMask(ctx.db, ctx.editor, input)),

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
