/**
 * Zod schemas for SA-1B's per-image annotation file (`sa_<id>.json`):
 *
 *   { image: { image_id, width, height, file_name },
 *     annotations: [{ id, segmentation: { size: [h, w], counts }, bbox: [x, y, w, h], area,
 *                     predicted_iou, stability_score, point_coords: [[x, y], ...], crop_box: [x, y, w, h] }] }
 *
 * Besides the shapes, the schemas check that every segmentation is a well-formed compressed RLE whose
 * counts fill its size, and that it has the image's size.
 */
import { z } from "zod";
import { assertValidRle, RleError } from "./rle";

const count = z.number().int().nonnegative();
const coordinate = z.number();
const length = z.number().nonnegative();

/** `[x, y, w, h]` in pixels. */
export const xywhSchema = z.tuple([coordinate, coordinate, length, length]);

/** Compressed COCO RLE; refined so that the counts decode and sum to height * width. */
export const cocoRleSchema = z
  .object({
    size: z.tuple([count, count]),
    counts: z.string(),
  })
  .superRefine((rle, ctx) => {
    try {
      assertValidRle(rle);
    } catch (error) {
      if (!(error instanceof RleError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message, path: ["counts"] });
    }
  });

export const sa1bImageSchema = z.object({
  image_id: count,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  file_name: z.string().min(1),
});

export const sa1bAnnotationSchema = z.object({
  id: count,
  segmentation: cocoRleSchema,
  bbox: xywhSchema,
  area: count,
  predicted_iou: z.number(),
  stability_score: z.number().min(0).max(1),
  point_coords: z.array(z.tuple([coordinate, coordinate])),
  crop_box: xywhSchema,
});

/** The fields of an annotation file that the size check reads; both our files and SA-1B's have them. */
interface SizedAnnotationFile {
  image: { width: number; height: number };
  annotations: ReadonlyArray<{ segmentation: { size: readonly [number, number] } }>;
}

/** superRefine for an annotation file: every segmentation has the image's size ([height, width], COCO order). */
export function refineSegmentationSizes<File extends SizedAnnotationFile>(
  file: File,
  ctx: z.RefinementCtx<File>,
): void {
  const { width, height } = file.image;
  file.annotations.forEach((annotation, i) => {
    const [h, w] = annotation.segmentation.size;
    if (h !== height || w !== width) {
      ctx.addIssue({
        code: "custom",
        message: `segmentation size [${h}, ${w}] does not match the image's [height, width] [${height}, ${width}]`,
        path: ["annotations", i, "segmentation", "size"],
      });
    }
  });
}

export const sa1bFileSchema = z
  .object({
    image: sa1bImageSchema,
    annotations: z.array(sa1bAnnotationSchema),
  })
  .superRefine(refineSegmentationSizes);

export type Sa1bImage = z.infer<typeof sa1bImageSchema>;
export type Sa1bAnnotation = z.infer<typeof sa1bAnnotationSchema>;
export type Sa1bFile = z.infer<typeof sa1bFileSchema>;
