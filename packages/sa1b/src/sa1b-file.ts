/**
 * The per-image annotation file our export writes and our import reads: SA-1B's `sa_<n>.json` exactly
 * (see schema.ts), plus three optional keys per annotation that SA-1B readers ignore and our importer
 * reads when present. A public SA-1B file has none of them; the importer treats its masks as
 * source "auto", stage "fully_automatic".
 *
 * Shared contract between export (writer) and import (reader); change it only with both in mind.
 */
import { z } from "zod";
import { refineSegmentationSizes, sa1bAnnotationSchema, sa1bImageSchema } from "./schema";

export const SA1B_MASK_SOURCES = ["manual", "semi_auto", "auto"] as const;
export const SA1B_STAGES = ["assisted_manual", "semi_automatic", "fully_automatic"] as const;

export const sa1bMaskSourceSchema = z.enum(SA1B_MASK_SOURCES);
export const sa1bStageSchema = z.enum(SA1B_STAGES);

/** Defaults for a file that does not say where its masks came from (every public SA-1B file). */
export const SA1B_DEFAULT_SOURCE = "auto" satisfies Sa1bMaskSource;
export const SA1B_DEFAULT_STAGE = "fully_automatic" satisfies Sa1bStage;

export const sa1bExportAnnotationSchema = sa1bAnnotationSchema.extend({
  source: sa1bMaskSourceSchema.optional(),
  stage: sa1bStageSchema.optional(),
  label: z.string().optional(),
});

export const sa1bExportFileSchema = z
  .object({
    image: sa1bImageSchema,
    annotations: z.array(sa1bExportAnnotationSchema),
  })
  .superRefine(refineSegmentationSizes);

export type Sa1bMaskSource = z.infer<typeof sa1bMaskSourceSchema>;
export type Sa1bStage = z.infer<typeof sa1bStageSchema>;
export type Sa1bExportAnnotation = z.infer<typeof sa1bExportAnnotationSchema>;
export type Sa1bExportFile = z.infer<typeof sa1bExportFileSchema>;

/** Member names inside a shard (and file names in a loose folder), as in SA-1B's published tars. */
export const SA1B_MEMBER = {
  image: (n: number): string => `sa_${n}.jpg`,
  annotations: (n: number): string => `sa_${n}.json`,
} as const;

/** `sa_<n>.jpg` / `sa_<n>.json` -> n and kind; null for any other name (directories, README, ...). */
export function parseSa1bMemberName(name: string): { n: number; kind: "image" | "annotations" } | null {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const match = /^sa_(\d+)\.(jpg|json)$/.exec(base);
  if (!match) return null;
  return { n: Number(match[1]), kind: match[2] === "jpg" ? "image" : "annotations" };
}
