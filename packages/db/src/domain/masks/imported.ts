import type { CocoRle } from "@sas/sa1b";
import { z } from "zod";
import { Prisma } from "../../generated/prisma/client";
import { MaskDomainError } from "./errors";
import { storedGeometry } from "./geometry";

type Quad = [number, number, number, number];

/** One mask of an imported SA-1B annotation file, with what the file said about it. */
export interface ImportedMaskInput {
  /** COCO compressed RLE of the whole image, size [height, width]. Area and bbox are recomputed from it. */
  rle: CocoRle;
  predictedIou: number;
  stabilityScore: number;
  /** The prompt point(s) the file records, in original image pixels. */
  pointCoords: [number, number][];
  /** [x, y, w, h] of the crop the mask came from (the whole image when not made in a crop). */
  cropBox: Quad;
  label: string;
  source: "manual" | "semi_auto" | "auto";
  stage: "assisted_manual" | "semi_automatic" | "fully_automatic";
}

/** SA-1B images average ~100 masks; the largest have a few thousand. */
const MAX_IMPORTED_MASKS = 100_000;
const MAX_POINTS_PER_MASK = 1_000;
const coordinate = z.number().min(-1_000_000).max(1_000_000);
const quad = z.tuple([coordinate, coordinate, coordinate, coordinate]);

const importedMaskSchema = z.object({
  rle: z.object({ size: z.tuple([z.number().int(), z.number().int()]), counts: z.string() }),
  predictedIou: z.number().min(-1).max(2),
  stabilityScore: z.number().min(0).max(1),
  pointCoords: z.array(z.tuple([coordinate, coordinate])).max(MAX_POINTS_PER_MASK),
  cropBox: quad,
  label: z.string().max(200),
  source: z.enum(["manual", "semi_auto", "auto"]),
  stage: z.enum(["assisted_manual", "semi_automatic", "fully_automatic"]),
});

const insertArgsSchema = z.object({
  imageId: z.uuid(),
  masks: z.array(importedMaskSchema).max(MAX_IMPORTED_MASKS),
});

/** Runs of the same size and counts are the same pixels: the RLE is canonical (pycocotools' form). */
const rleKey = (rle: CocoRle) => `${rle.size[0]}x${rle.size[1]}:${rle.counts}`;

/** A JSON array column of the record set as float8[], in array order. */
const floatArray = (column: string) =>
  Prisma.raw(
    `ARRAY(SELECT v::float8 FROM jsonb_array_elements_text(${column}) WITH ORDINALITY AS e(v, i) ORDER BY i)`,
  );

/**
 * Stores the masks of one imported annotation file on its image, inside the caller's transaction (so
 * the image row and its masks commit together or not at all). Imported masks are accepted, have no
 * author, model version, pass or timing, and keep the file's scores, points, crop box, label, source
 * and stage; area and bbox (SAM's convention) are recomputed from the RLE. A mask whose RLE equals one
 * the image already has (any source or status, so a mask someone deleted is not brought back), or an
 * earlier one in the same batch, is skipped: importing the same files twice stores nothing the second
 * time. Each RLE must have the image's size and at least one pixel, or nothing is written (BAD_REQUEST
 * naming the mask).
 */
export async function insertImportedMasks(
  tx: Prisma.TransactionClient,
  args: { imageId: string; masks: ImportedMaskInput[] },
): Promise<{ inserted: number; duplicates: number }> {
  const parsed = insertArgsSchema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MaskDomainError(
      "BAD_REQUEST",
      `imported masks refused: ${issue?.path.join(".") || "input"}: ${issue?.message ?? "invalid"}`,
    );
  }
  const { imageId, masks } = parsed.data;
  const image = await tx.image.findUnique({ where: { id: imageId }, select: { width: true, height: true } });
  if (!image) throw new MaskDomainError("NOT_FOUND", "image not found");

  const seen = new Set<string>();
  const rows = [];
  for (const [index, mask] of masks.entries()) {
    const rle: CocoRle = { size: mask.rle.size, counts: mask.rle.counts };
    let geometry: ReturnType<typeof storedGeometry>;
    try {
      geometry = storedGeometry(rle, image);
    } catch (error) {
      if (error instanceof MaskDomainError) {
        throw new MaskDomainError("BAD_REQUEST", `imported mask ${index}: ${error.message}`);
      }
      throw error;
    }
    const key = rleKey(rle);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      ...geometry,
      predictedIou: mask.predictedIou,
      stabilityScore: mask.stabilityScore,
      pointCoords: mask.pointCoords,
      cropBox: mask.cropBox,
      label: mask.label,
      source: mask.source,
      stage: mask.stage,
    });
  }

  // Two imports of the same image at once must not both find a mask missing and both insert it.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`masks:import:${imageId}`}, 0))`;
  // One INSERT … SELECT over a JSON array, as automatic passes do (createMany is ~15x slower for
  // thousands of masks). jsonb equality compares the stored { size, counts } by value.
  const inserted = rows.length
    ? await tx.$executeRaw`
    INSERT INTO "Mask" ("id", "imageId", "rle", "bbox", "area", "predictedIou", "stabilityScore", "pointCoords",
                        "cropBox", "label", "source", "stage", "status", "updatedAt")
    SELECT gen_random_uuid(), ${imageId}::uuid, r.rle, ${floatArray("r.bbox")}, r.area, r."predictedIou",
           r."stabilityScore", r."pointCoords", ${floatArray('r."cropBox"')}, r.label, r.source::"MaskSource",
           r.stage::"Stage", 'accepted'::"MaskStatus", CURRENT_TIMESTAMP
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS r(rle jsonb, bbox jsonb, area int, "predictedIou" float8, "stabilityScore" float8,
             "pointCoords" jsonb, "cropBox" jsonb, label text, source text, stage text)
     WHERE NOT EXISTS (SELECT 1 FROM "Mask" m WHERE m."imageId" = ${imageId}::uuid AND m.rle = r.rle)`
    : 0;
  return { inserted, duplicates: masks.length - inserted };
}
