import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalDiskStorage } from "./local-disk";
import { S3Storage } from "./s3";
import { storageContract } from "./storage.contract";
import { startTestS3Server } from "./testing";

storageContract("local disk", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "sas-storage-contract-"));
  return {
    storage: new LocalDiskStorage(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

storageContract("S3 (s3rver on 127.0.0.1)", async () => {
  const server = await startTestS3Server();
  const storage = new S3Storage({
    bucket: server.bucket,
    endpoint: server.endpoint,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partSizeBytes: 5 * 1024 * 1024,
  });
  // Records the SDK commands sent, so the test can tell a multipart upload from a single PUT.
  let seen: string[] = [];
  storage.client.middlewareStack.add(
    (next, context) => (args) => {
      seen.push(context.commandName ?? "unknown");
      return next(args);
    },
    { step: "initialize" },
  );
  return {
    storage,
    requestsSeen: () => {
      const requests = seen;
      seen = [];
      return requests;
    },
    close: async () => {
      storage.client.destroy();
      await server.close();
    },
  };
});

describe("S3 key prefix", () => {
  it("places every key under S3_PREFIX, so installs can share a bucket", async () => {
    const server = await startTestS3Server();
    const options = {
      bucket: server.bucket,
      endpoint: server.endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    };
    const teamA = new S3Storage({ ...options, prefix: "team-a/" });
    const teamB = new S3Storage({ ...options, prefix: "team-b/" });
    const bare = new S3Storage(options);
    try {
      await teamA.put("images/ab/x.jpg", new TextEncoder().encode("a"));
      expect(await bare.exists("team-a/images/ab/x.jpg")).toBe(true);
      expect(await bare.exists("images/ab/x.jpg")).toBe(false);
      expect(await teamB.exists("images/ab/x.jpg")).toBe(false);
      expect((await teamA.get("images/ab/x.jpg")).toString()).toBe("a");
    } finally {
      for (const s of [teamA, teamB, bare]) s.client.destroy();
      await server.close();
    }
  });
});
