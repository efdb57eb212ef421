import { type CocoRle, rleIoU } from "@sas/sa1b";
import { z } from "zod";
import { Prisma } from "../../generated/prisma/client";
import { MaskDomainError } from "./errors";
import { storedGeometry } from "./geometry";
import { storedRleSchema } from "./view";

type Quad = [number, number, number, number];

/** One mask of an automatic pass, as the generator (packages/sam) reports it. */
export interface AutomaticMaskInput {
  /** COCO compressed RLE of the whole image, size [height, width]. */
  rle: CocoRle;
  /** Ignored: area and bbox are recomputed from the RLE, so stored geometry always matches the pixels. */
  bbox: Quad;
  area: number;
  predictedIou: number;
  stabilityScore: number;
  /** The prompt point(s), in original image pixels. */
  pointCoords: [number, number][];
  /** [x, y, w, h] of the crop the mask came from (the whole image for crop layer 0). */
  cropBox: Quad;
}

export interface ReplaceAutomaticMasksArgs {
  imageId: string;
  jobId: string;
  /** Same model and parameters give the same key: a rerun replaces what the key made before. */
  passKey: string;
  stage: "semi_automatic" | "fully_automatic";
  modelVersionId: string | null;
  masks: AutomaticMaskInput[];
}

/** A worker can mistype a number but never an image size: bounds generous enough for any real pass. */
const MAX_AUTOMATIC_MASKS = 100_000;
const MAX_POINTS_PER_MASK = 1_000;
const coordinate = z.number().min(-1_000_000).max(1_000_000);
const quad = z.tuple([coordinate, coordinate, coordinate, coordinate]);

const automaticMaskSchema = z.object({
  rle: z.object({ size: z.tuple([z.number().int(), z.number().int()]), counts: z.string() }),
  bbox: quad,
  area: z.number(),
  predictedIou: z.number().min(-1).max(2),
  stabilityScore: z.number().min(0).max(1),
  pointCoords: z.array(z.tuple([coordinate, coordinate])).max(MAX_POINTS_PER_MASK),
  cropBox: quad,
});

const replaceArgsSchema = z.object({
  imageId: z.uuid(),
  jobId: z.uuid(),
  passKey: z.string().min(1).max(64),
  stage: z.enum(["semi_automatic", "fully_automatic"]),
  modelVersionId: z.uuid().nullable(),
  masks: z.array(automaticMaskSchema).max(MAX_AUTOMATIC_MASKS),
});

/** How each stage's masks start out: stage 2 pre-fills proposals a person confirms; stage 3 is final. */
const STAGE_OUTCOME = {
  semi_automatic: { source: "semi_auto", status: "proposed" },
  fully_automatic: { source: "auto", status: "accepted" },
} as const;

/**
 * Masks of earlier runs with this pass key that no person has touched: every write by a person (accept,
 * edit, delete, review) bumps the version, so version 1 and no review decision mean untouched. Manual
 * masks (they have a source of "manual" and an author) never match.
 */
const untouchedEarlierMasks = (imageId: string, passKey: string): Prisma.MaskWhereInput => ({
  imageId,
  passKey,
  source: { in: ["semi_auto", "auto"] },
  authorId: null,
  version: 1,
  reviewDecision: null,
});

/**
 * A new mask this close (mask IoU) to one a person already decided on from an earlier run with the same
 * key is that same proposal again: the person's accept, fix or delete stands and the copy is not stored.
 * A rerun with the same model and parameters reproduces its masks exactly (IoU 1); 0.9 is SA-1B's own
 * bar for "the same mask" (the paper's share of corrected masks with IoU above 0.9).
 */
export const SAME_PROPOSAL_IOU = 0.9;

type Box = readonly number[];

/** A JSON array column of the record set as float8[], in array order. */
const floatArray = (column: string) =>
  Prisma.raw(
    `ARRAY(SELECT v::float8 FROM jsonb_array_elements_text(${column}) WITH ORDINALITY AS e(v, i) ORDER BY i)`,
  );

/** SAM-convention boxes (inclusive extent) overlap: a cheap test before comparing runs. */
const boxesOverlap = (a: Box, b: Box) =>
  a[0]! <= b[0]! + b[2]! && b[0]! <= a[0]! + a[2]! && a[1]! <= b[1]! + b[3]! && b[1]! <= a[1]! + a[3]!;

/**
 * Stores one image's result of an automatic pass, inside the caller's transaction: removes this image's
 * untouched masks from earlier runs with the same pass key (hard delete: nobody ever saw them as work),
 * then inserts the new ones in one batch, except those a person already decided on (an accepted, fixed,
 * reviewed or deleted mask of the same key with IoU >= SAME_PROPOSAL_IOU), so a rerun never duplicates
 * or resurrects a proposal. Each RLE must have the image's size and at least one pixel;
 * otherwise nothing is written (BAD_REQUEST naming the mask). Area and bbox (SAM's convention) are
 * recomputed from the RLE. Semi-automatic masks start as proposals (source semi_auto), fully automatic
 * ones as accepted (source auto); none has an author.
 */
export async function replaceAutomaticMasks(
  tx: Prisma.TransactionClient,
  args: ReplaceAutomaticMasksArgs,
): Promise<{ inserted: number; replaced: number; kept: number }> {
  const parsed = replaceArgsSchema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MaskDomainError(
      "BAD_REQUEST",
      `automatic masks refused: ${issue?.path.join(".") || "input"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const { imageId, jobId, passKey, stage, modelVersionId, masks } = parsed.data;
  const image = await tx.image.findUnique({ where: { id: imageId }, select: { width: true, height: true } });
  if (!image) throw new MaskDomainError("NOT_FOUND", "image not found");

  const rows = masks.map((mask, index) => {
    try {
      const { rle, area, bbox } = storedGeometry(mask.rle, image);
      return {
        rle,
        area,
        bbox,
        predictedIou: mask.predictedIou,
        stabilityScore: mask.stabilityScore,
        pointCoords: mask.pointCoords,
        prompts: mask.pointCoords.map(([x, y]) => ({ type: "point", x, y, label: 1 })),
        cropBox: mask.cropBox,
      };
    } catch (error) {
      if (error instanceof MaskDomainError) {
        throw new MaskDomainError("BAD_REQUEST", `automatic mask ${index}: ${error.message}`);
      }
      throw error;
    }
  });

  // Two runs of the same image and key at once (a stalled job picked up again while the first still
  // runs) must not both delete the old masks and then both insert: serialise them per image and key.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`masks:auto:${imageId}:${passKey}`}, 0))`;
  const { count: replaced } = await tx.mask.deleteMany({ where: untouchedEarlierMasks(imageId, passKey) });
  const decided = (
    await tx.mask.findMany({
      where: { imageId, passKey, source: { in: ["semi_auto", "auto"] } },
      select: { rle: true, bbox: true },
    })
  ).map((d) => ({ bbox: d.bbox, rle: storedRleSchema.parse(d.rle) }));
  const fresh = rows.filter(
    (row, index) =>
      !decided.some(
        (d) => boxesOverlap(d.bbox, row.bbox) && rleIoU(d.rle, masks[index]!.rle) >= SAME_PROPOSAL_IOU,
      ),
  );
  const { source, status } = STAGE_OUTCOME[stage];
  // One INSERT … SELECT over a JSON array: Prisma's createMany spends ~15x longer building and binding
  // the same rows (measured: 5000 masks, 3.3 s against 0.22 s), and a pass may write thousands per image.
  const inserted = fresh.length
    ? await tx.$executeRaw`
    INSERT INTO "Mask" ("id", "imageId", "rle", "bbox", "area", "predictedIou", "stabilityScore", "pointCoords",
                        "prompts", "cropBox", "source", "stage", "status", "modelVersionId", "jobId", "passKey",
                        "updatedAt")
    SELECT gen_random_uuid(), ${imageId}::uuid, r.rle, ${floatArray("r.bbox")}, r.area, r."predictedIou",
           r."stabilityScore", r."pointCoords", r.prompts, ${floatArray('r."cropBox"')}, ${source}::"MaskSource",
           ${stage}::"Stage", ${status}::"MaskStatus", ${modelVersionId}::uuid, ${jobId}::uuid, ${passKey},
           CURRENT_TIMESTAMP
      FROM jsonb_to_recordset(${JSON.stringify(fresh)}::jsonb)
        AS r(rle jsonb, bbox jsonb, area int, "predictedIou" float8, "stabilityScore" float8,
             "pointCoords" jsonb, prompts jsonb, "cropBox" jsonb)`
    : 0;
  return { inserted, replaced, kept: rows.length - fresh.length };
}
