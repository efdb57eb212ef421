/**
 * HTTP Range for downloads (RFC 9110 14.1.2): one `bytes=` range, `start-end`, `start-` or `-suffix`.
 * Several ranges at once (multipart answers) are not served: the whole file is sent instead, which the
 * RFC allows. Returns "none" for no/ignored Range header, "unsatisfiable" for a range outside the file
 * (416), or the inclusive offsets.
 */
export type RangeRequest = "none" | "unsatisfiable" | { start: number; end: number };

export function parseRange(header: string | null, size: number): RangeRequest {
  if (!header) return "none";
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Malformed or multi-range: ignore the header, as the RFC allows.
  if (!match) return "none";
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return "none";
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return "none";
  return { start, end };
}
