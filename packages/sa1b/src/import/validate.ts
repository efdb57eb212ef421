/**
 * Checks one SA-1B annotation file as the importer reads it: the shared contract's schema (SA-1B's
 * `sa_<n>.json` plus our optional source/stage/label keys, every RLE well formed and of the file's
 * size), then what the schema cannot say: boxes that start inside the image, no empty masks (they
 * annotate nothing and the mask domain refuses them), ids unique within the file, and, once the image
 * is decoded, that the file's width and height are the image's.
 */
import type { z } from "zod";
import { RleError, rleArea } from "../rle";
import { type Sa1bExportFile, sa1bExportFileSchema } from "../sa1b-file";

/** Enough to point at the problem without flooding a terminal with one line per annotation. */
const MAX_REPORTED_PROBLEMS = 3;

export type Sa1bCheck = { ok: true; file: Sa1bExportFile } | { ok: false; error: string };

function joinProblems(problems: string[]): string {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).join("; ");
  const more = problems.length - MAX_REPORTED_PROBLEMS;
  return more > 0 ? `${shown} (and ${more} more problem${more === 1 ? "" : "s"})` : shown;
}

const issuePath = (issue: z.core.$ZodIssue) => issue.path.map(String).join(".") || "file";

/** The file's own size check says "segmentation size ..."; the path already names the field. */
const issueMessage = (issue: z.core.$ZodIssue) => issue.message.replace(/^segmentation size /, "");

function describeQuad(quad: readonly number[]): string {
  return `[${quad.join(", ")}]`;
}

/** What the schema lets through but an import must not: see the module comment. */
function semanticProblems(file: Sa1bExportFile): string[] {
  const problems: string[] = [];
  const seenIds = new Map<number, number>();
  file.annotations.forEach((annotation, i) => {
    const at = `annotations.${i}`;
    const [bx, by] = annotation.bbox;
    if (bx < 0 || by < 0)
      problems.push(`${at}.bbox: negative coordinate in ${describeQuad(annotation.bbox)}`);
    const [cx, cy] = annotation.crop_box;
    if (cx < 0 || cy < 0) {
      problems.push(`${at}.crop_box: negative coordinate in ${describeQuad(annotation.crop_box)}`);
    }
    try {
      if (rleArea(annotation.segmentation) === 0) problems.push(`${at}.segmentation: the mask is empty`);
    } catch (error) {
      // The schema validated the counts already; this is only reached if that ever changes.
      if (!(error instanceof RleError)) throw error;
      problems.push(`${at}.segmentation.counts: ${error.message}`);
    }
    const earlier = seenIds.get(annotation.id);
    if (earlier !== undefined) {
      problems.push(`${at}.id: ${annotation.id} is also the id of annotations.${earlier}`);
    } else {
      seenIds.set(annotation.id, i);
    }
  });
  return problems;
}

/** Validates a parsed annotation file (before its image is decoded). */
export function checkSa1bAnnotations(raw: unknown): Sa1bCheck {
  const parsed = sa1bExportFileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      error: joinProblems(parsed.error.issues.map((issue) => `${issuePath(issue)}: ${issueMessage(issue)}`)),
    };
  }
  const problems = semanticProblems(parsed.data);
  return problems.length > 0 ? { ok: false, error: joinProblems(problems) } : { ok: true, file: parsed.data };
}

/** Null when the file's stated size is the decoded image's; otherwise what differs. */
export function imageSizeProblem(
  file: Sa1bExportFile,
  decoded: { width: number; height: number },
): string | null {
  const { width, height } = file.image;
  if (width === decoded.width && height === decoded.height) return null;
  return `image.width x image.height ${width}x${height} does not match the image's decoded size ${decoded.width}x${decoded.height}`;
}
