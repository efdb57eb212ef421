/**
 * The input-validation layer every router uses: text that PostgreSQL can store, and RLEs checked the same
 * way wherever they arrive (save, update, review correction; the import path checks the same in the mask
 * domain's storedGeometry). Bad input is a 400 with a message that says what and where, never a database
 * error.
 */
import { textProblem } from "@sas/config";
import { cocoRleSchema } from "@sas/sa1b";
import { z } from "zod";

/**
 * A string field. Refuses NUL and unpaired surrogates (PostgreSQL cannot store them), then the usual
 * string checks chain on: `text().trim().min(1).max(200)`.
 */
export const text = () =>
  z.string().superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** Where in a (parsed) input a string is that PostgreSQL cannot store, and why; null when there is none. */
export function findBadText(value: unknown, at: (string | number)[] = []): string | null {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? `${at.length ? at.join(".") : "input"} ${problem}` : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadText(value[i], [...at, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    for (const [key, inner] of Object.entries(value)) {
      const found = findBadText(key, [...at, "(key)"]) ?? findBadText(inner, [...at, key]);
      if (found) return found;
    }
  }
  return null;
}

/** A 100-megapixel mask with a busy outline still fits; counts strings are a few bytes per run. */
export const MAX_RLE_COUNTS_LENGTH = 16_000_000;

/**
 * A COCO compressed RLE from a client. The length bound is checked before cocoRleSchema decodes the
 * counts, so it also bounds that work; the mask domain then checks the size against the image.
 */
export const rleInput = z
  .object({
    size: z.tuple([z.number().int().min(1), z.number().int().min(1)]),
    counts: z.string().min(1).max(MAX_RLE_COUNTS_LENGTH),
  })
  .pipe(cocoRleSchema);
