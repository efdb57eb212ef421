import path from "node:path";
import { env } from "@sas/config";
import { LocalDiskStorage } from "./local-disk";
import type { BlobStorage } from "./storage";

export * from "./local-disk";
export * from "./storage";

let instance: BlobStorage | undefined;

/** The process's storage: DATA_DIR/storage on local disk. */
export function storage(): BlobStorage {
  instance ??= new LocalDiskStorage(path.join(env().DATA_DIR, "storage"));
  return instance;
}

/** Content-addressed key for an original image, fanned out so no directory grows huge. */
export function imageKey(sha256: string, extension: string): string {
  return `images/${sha256.slice(0, 2)}/${sha256}.${extension.replace(/^\./, "").toLowerCase()}`;
}
