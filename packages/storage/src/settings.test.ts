import path from "node:path";
import { ConfigError, parseEnv } from "@sas/config";
import { describe, expect, it } from "vitest";
import { LocalDiskStorage, S3Storage, storageFromSettings } from "./index";

/** The environment as a deployment would set it (NODE_ENV is left to the schema's default). */
const settingsFrom = (vars: Record<string, string>) => parseEnv(vars as NodeJS.ProcessEnv);

describe("storage settings", () => {
  it("defaults to local disk under DATA_DIR/storage", () => {
    const config = settingsFrom({ DATA_DIR: "/srv/sas" });
    expect(config.STORAGE).toBe("local");
    const blobs = storageFromSettings(config);
    expect(blobs).toBeInstanceOf(LocalDiskStorage);
    expect((blobs as LocalDiskStorage).root).toBe(path.join("/srv/sas", "storage"));
  });

  it("STORAGE=s3 builds an S3 client for the bucket, path-style when an endpoint is given", async () => {
    const config = settingsFrom({
      STORAGE: "s3",
      S3_BUCKET: "sam-studio",
      S3_ENDPOINT: "http://minio:9000",
      S3_ACCESS_KEY_ID: "key",
      S3_SECRET_ACCESS_KEY: "secret",
      S3_PREFIX: "team-a/",
    });
    const blobs = storageFromSettings(config);
    expect(blobs).toBeInstanceOf(S3Storage);
    const s3 = blobs as S3Storage;
    expect(s3.bucket).toBe("sam-studio");
    expect(s3.client.config.forcePathStyle).toBe(true);
    expect(await s3.client.config.region()).toBe("us-east-1");
    expect(await s3.client.config.credentials()).toMatchObject({
      accessKeyId: "key",
      secretAccessKey: "secret",
    });
  });

  it("refuses STORAGE=s3 without a bucket, and malformed S3 settings, in one readable line", () => {
    expect(() => settingsFrom({ STORAGE: "s3" })).toThrow(ConfigError);
    expect(() => settingsFrom({ STORAGE: "s3" })).toThrow(/S3_BUCKET must be set when STORAGE=s3/);
    expect(() => settingsFrom({ STORAGE: "gcs" })).toThrow(/STORAGE/);
    expect(() => settingsFrom({ STORAGE: "s3", S3_BUCKET: "b1x", S3_ENDPOINT: "minio:9000" })).toThrow(
      /S3_ENDPOINT/,
    );
    expect(() => settingsFrom({ STORAGE: "s3", S3_BUCKET: "b1x", S3_PREFIX: "no-slash" })).toThrow(
      /S3_PREFIX/,
    );
    expect(() => settingsFrom({ STORAGE: "s3", S3_BUCKET: "b1x", S3_FORCE_PATH_STYLE: "yes" })).toThrow(
      /S3_FORCE_PATH_STYLE/,
    );
  });
});
