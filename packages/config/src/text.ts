/** A lone UTF-16 surrogate: half of a character, which PostgreSQL (UTF-8) cannot store. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as text, or null: PostgreSQL refuses NUL in text columns and cannot encode
 * an unpaired surrogate, so either would otherwise surface as a database error. Shared by every input
 * boundary (tRPC inputs, auth hooks, upload file names, imports).
 */
export function textProblem(value: string): string | null {
  if (value.includes("\0")) return "must not contain the NUL character (\\u0000)";
  if (UNPAIRED_SURROGATE.test(value))
    return "must not contain an unpaired UTF-16 surrogate (broken character)";
  return null;
}
