import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlobStorage, StorageKeyError } from "./storage";

/** What a backend under test provides besides the storage itself. */
export interface ContractSubject {
  storage: BlobStorage;
  /** Requests the last large put made, when the backend can tell (S3: CreateMultipartUpload, UploadPart...). */
  requestsSeen?: () => string[];
  close(): Promise<void>;
}

/** Bytes that differ at every offset within a 251-byte cycle, so a shifted or truncated read cannot pass. */
function pattern(size: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i + seed) % 251;
  return bytes;
}

/** A stream of `total` bytes in chunks of `chunk`, failing with `failAt` bytes sent when given. */
function chunked(bytes: Buffer, chunk: number, failAt?: number): Readable {
  async function* parts() {
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      if (failAt !== undefined && offset >= failAt) throw new Error("source failed");
      yield bytes.subarray(offset, offset + chunk);
    }
  }
  return Readable.from(parts(), { objectMode: false });
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * The one behaviour every BlobStorage backend must show; the integration test runs it against local
 * disk and against a real S3 API server.
 */
export function storageContract(name: string, start: () => Promise<ContractSubject>): void {
  describe(`storage contract: ${name}`, () => {
    let subject: ContractSubject;
    let blobs: BlobStorage;
    // Each run writes under its own folder, so a reused bucket or directory cannot make a test pass.
    const run = `contract-${randomUUID()}`;

    beforeAll(async () => {
      subject = await start();
      blobs = subject.storage;
    });
    afterAll(async () => {
      await subject?.close();
    });

    it("stores bytes and reads them back whole, with their size", async () => {
      const bytes = pattern(70_000);
      const key = `${run}/images/ab/one.jpg`;
      expect(await blobs.put(key, bytes)).toEqual({ sizeBytes: bytes.length });
      expect(Buffer.compare(await blobs.get(key), bytes)).toBe(0);
      expect(Buffer.compare(await buffer(blobs.stream(key)), bytes)).toBe(0);
      const info = await blobs.stat(key);
      expect(info?.sizeBytes).toBe(bytes.length);
      expect(info?.modifiedAt).toBeInstanceOf(Date);
      expect(await blobs.exists(key)).toBe(true);
    });

    it("stores an empty object", async () => {
      const key = `${run}/empty.txt`;
      expect(await blobs.put(key, new Uint8Array(0))).toEqual({ sizeBytes: 0 });
      expect((await blobs.get(key)).length).toBe(0);
      expect((await blobs.stat(key))?.sizeBytes).toBe(0);
    });

    it("replaces an object whole on a second put", async () => {
      const key = `${run}/replace.bin`;
      await blobs.put(key, pattern(5000, 1));
      await blobs.put(key, pattern(300, 2));
      expect(Buffer.compare(await blobs.get(key), pattern(300, 2))).toBe(0);
    });

    it("streams inclusive byte ranges, as HTTP Range asks for them", async () => {
      const bytes = pattern(10_000, 3);
      const key = `${run}/ranged.bin`;
      await blobs.put(key, bytes);
      // (s3rver reads `bytes=0-0` as `bytes=0-`, so the one-byte case is taken at offset 1.)
      for (const [start, end] of [
        [1, 1],
        [0, 99],
        [1234, 5678],
        [9999, 9999],
        [5000, 9999],
      ] as const) {
        const slice = await buffer(blobs.stream(key, { start, end }));
        expect(Buffer.compare(slice, bytes.subarray(start, end + 1)), `bytes ${start}-${end}`).toBe(0);
      }
    });

    it("says a missing key is missing: stat null, get and stream fail with ENOENT, delete is a no-op", async () => {
      const key = `${run}/missing/nothing.bin`;
      expect(await blobs.stat(key)).toBeNull();
      expect(await blobs.exists(key)).toBe(false);
      await expect(blobs.get(key)).rejects.toMatchObject({ code: "ENOENT" });
      await expect(buffer(blobs.stream(key))).rejects.toMatchObject({ code: "ENOENT" });
      await expect(buffer(blobs.stream(key, { start: 0, end: 10 }))).rejects.toMatchObject({
        code: "ENOENT",
      });
      await blobs.delete(key);
    });

    it("deletes", async () => {
      const key = `${run}/deleted.bin`;
      await blobs.put(key, pattern(10));
      await blobs.delete(key);
      expect(await blobs.exists(key)).toBe(false);
      await expect(blobs.get(key)).rejects.toMatchObject({ code: "ENOENT" });
    });

    it("refuses keys that are not plain relative paths", async () => {
      for (const key of ["../escape", "/abs/path", "a//b", "a/./b", "a/../b", "", "spa ce", "a\\b"]) {
        await expect(blobs.put(key, pattern(1)), key).rejects.toBeInstanceOf(StorageKeyError);
        expect(() => blobs.stream(key), key).toThrow(StorageKeyError);
        await expect(blobs.get(key), key).rejects.toBeInstanceOf(StorageKeyError);
      }
    });

    it("uploads a large stream in parts and reads ranges across part boundaries", async () => {
      // 13 MiB in 1 MiB chunks: three parts at S3's 5 MiB minimum part size.
      const size = 13 * 1024 * 1024;
      const bytes = pattern(size, 4);
      const key = `${run}/exports/sa_000000.tar`;
      expect(await blobs.put(key, chunked(bytes, 1024 * 1024))).toEqual({ sizeBytes: size });
      if (subject.requestsSeen) {
        const seen = subject.requestsSeen();
        expect(seen).toContain("CreateMultipartUploadCommand");
        expect(seen.filter((name) => name === "UploadPartCommand").length).toBe(3);
        expect(seen).toContain("CompleteMultipartUploadCommand");
      }
      expect((await blobs.stat(key))?.sizeBytes).toBe(size);
      expect(sha(await buffer(blobs.stream(key)))).toBe(sha(bytes));
      const boundary = 5 * 1024 * 1024;
      const slice = await buffer(blobs.stream(key, { start: boundary - 10, end: boundary + 10 }));
      expect(Buffer.compare(slice, bytes.subarray(boundary - 10, boundary + 11))).toBe(0);
      const tail = await buffer(blobs.stream(key, { start: size - 3, end: size - 1 }));
      expect(Buffer.compare(tail, bytes.subarray(size - 3))).toBe(0);
    });

    it("keeps the previous object when a streamed put fails part-way", async () => {
      const key = `${run}/exports/failing.tar`;
      await blobs.put(key, pattern(100, 5));
      const bytes = pattern(12 * 1024 * 1024, 6);
      subject.requestsSeen?.();
      await expect(blobs.put(key, chunked(bytes, 1024 * 1024, 7 * 1024 * 1024))).rejects.toThrow(
        "source failed",
      );
      // One part was sent before the source failed; the upload is aborted, not left to complete.
      if (subject.requestsSeen) expect(subject.requestsSeen()).toContain("AbortMultipartUploadCommand");
      expect(Buffer.compare(await blobs.get(key), pattern(100, 5))).toBe(0);
      const fresh = `${run}/exports/never.tar`;
      await expect(blobs.put(fresh, chunked(bytes, 1024 * 1024, 2 * 1024 * 1024))).rejects.toThrow(
        "source failed",
      );
      expect(await blobs.exists(fresh)).toBe(false);
    });
  });
}
