import path from "node:path";
import { type Env, env } from "@sas/config";
import { LocalDiskStorage } from "./local-disk";
import { S3Storage } from "./s3";
import type { BlobStorage } from "./storage";

export * from "./local-disk";
export * from "./s3";
export * from "./storage";

type StorageSettings = Pick<
  Env,
  | "STORAGE"
  | "DATA_DIR"
  | "S3_BUCKET"
  | "S3_ENDPOINT"
  | "S3_REGION"
  | "S3_ACCESS_KEY_ID"
  | "S3_SECRET_ACCESS_KEY"
  | "S3_PREFIX"
  | "S3_FORCE_PATH_STYLE"
>;

/** The storage the settings name: DATA_DIR/storage on local disk (the default), or an S3-compatible bucket. */
export function storageFromSettings(settings: StorageSettings): BlobStorage {
  if (settings.STORAGE === "local") return new LocalDiskStorage(path.join(settings.DATA_DIR, "storage"));
  if (!settings.S3_BUCKET) throw new Error("STORAGE=s3 needs S3_BUCKET");
  const { S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey } = settings;
  return new S3Storage({
    bucket: settings.S3_BUCKET,
    prefix: settings.S3_PREFIX,
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    forcePathStyle:
      settings.S3_FORCE_PATH_STYLE === undefined ? undefined : settings.S3_FORCE_PATH_STYLE === "true",
  });
}

let instance: BlobStorage | undefined;

/** The process's storage, as configured by the environment (see storageFromSettings). */
export function storage(): BlobStorage {
  instance ??= storageFromSettings(env());
  return instance;
}

/** For tests that point the process at other storage between cases (after resetEnvCache). */
export function resetStorage(): void {
  instance = undefined;
}

/** Content-addressed key for an original image, fanned out so no directory grows huge. */
export function imageKey(sha256: string, extension: string): string {
  return `images/${sha256.slice(0, 2)}/${sha256}.${extension.replace(/^\./, "").toLowerCase()}`;
}

/** Where an image's preview of the given longest side is kept once rendered (derived from the original's hash). */
export function thumbnailKey(sha256: string, side: number): string {
  return `thumbnails/${side}/${sha256.slice(0, 2)}/${sha256}.webp`;
}
