import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LocalDiskStorage } from "@sas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedBlobResponse } from "./http";
import { cancelWhileResuming } from "./testing/stream-cancel";

let root: string;
let blobs: LocalDiskStorage;
// Several of the source's 64 KiB reads, so a download can stop in the middle with data still buffered.
const bytes = randomBytes(1024 * 1024);

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "sas-http-"));
  blobs = new LocalDiskStorage(root);
  await blobs.put("blobs/big.bin", bytes);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("storedBlobResponse", () => {
  it("streams the whole blob and one range of it", async () => {
    const whole = storedBlobResponse(blobs, "blobs/big.bin", bytes.byteLength, null, new Headers());
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const range = storedBlobResponse(
      blobs,
      "blobs/big.bin",
      bytes.byteLength,
      "bytes=1000-299999",
      new Headers(),
    );
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(1000, 300000))).toBe(true);
  });

  it.each([null, "bytes=100-"])(
    "a client leaving mid-download (range %s) raises nothing",
    async (rangeHeader) => {
      const response = storedBlobResponse(
        blobs,
        "blobs/big.bin",
        bytes.byteLength,
        rangeHeader,
        new Headers(),
      );
      expect(await cancelWhileResuming(response.body!)).toEqual([]);
    },
  );
});
