import type { Readable } from "node:stream";

/**
 * Where originals, thumbnails, embeddings, model files and exports live. Keys are slash-separated relative
 * paths (`images/ab/abcdef….jpg`). Two implementations: LocalDiskStorage and S3Storage; both pass the
 * same contract (`contract.ts`). A missing key makes `get` reject and `stream` fail with BlobNotFoundError.
 */
export interface BlobStorage {
  /** Writes atomically: readers see the old object or the whole new one, never a partial file. */
  put(key: string, data: Uint8Array | Readable): Promise<{ sizeBytes: number }>;
  get(key: string): Promise<Buffer>;
  /** The object's bytes; with `range`, only bytes start..end (inclusive, as in HTTP Range). */
  stream(key: string, range?: ByteRange): Readable;
  exists(key: string): Promise<boolean>;
  stat(key: string): Promise<{ sizeBytes: number; modifiedAt: Date } | null>;
  delete(key: string): Promise<void>;
}

/** Inclusive byte offsets, as HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A key with no object. `code` matches Node's, so code that checks for ENOENT keeps working. */
export class BlobNotFoundError extends Error {
  override name = "BlobNotFoundError";
  readonly code = "ENOENT";
  constructor(readonly key: string) {
    super(`no stored object at ${JSON.stringify(key)}`);
  }
}

export class StorageKeyError extends Error {
  override name = "StorageKeyError";
}

const keyPattern = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function assertValidKey(key: string): void {
  if (!keyPattern.test(key) || key.split("/").some((part) => part === "." || part === "..")) {
    throw new StorageKeyError(`invalid storage key ${JSON.stringify(key)}`);
  }
}
