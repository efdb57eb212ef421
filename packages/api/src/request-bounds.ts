/**
 * How much one tRPC request may carry. Bodies are read into memory before a procedure runs, so each
 * procedure gets a limit sized to its largest legal input, and a batch may hold only so many calls.
 */
import { MAX_RLE_COUNTS_LENGTH } from "./inputs";

/** Calls in one batched request (the browser's batch link sends at most this many too). */
export const MAX_BATCH_SIZE = 10;

/** Everything but masks: names, filters, id lists of a pass (thousands of UUIDs). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * One mask at 100 megapixels: the longest counts string the schema accepts (16 M characters), its
 * prompts (up to 100 000 brush points, about 3 MB as JSON) and the JSON envelope. Nothing larger is a
 * legal mask, so nothing larger is read.
 */
export const MASK_BODY_LIMIT = MAX_RLE_COUNTS_LENGTH + 4 * 1024 * 1024;

const MASK_PROCEDURES = new Set(["annotate.saveMask", "annotate.updateMask", "review.decide"]);

/** The body limit of a request to `/api/trpc/<a,b,...>`: its largest procedure's (one mask per request). */
export function trpcBodyLimit(procedurePaths: readonly string[]): number {
  return procedurePaths.some((path) => MASK_PROCEDURES.has(path)) ? MASK_BODY_LIMIT : DEFAULT_BODY_LIMIT;
}
