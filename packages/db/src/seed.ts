import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "@sas/config";
import type { BlobStorage } from "@sas/storage";
import { ImageRejectedError, ingestImage } from "./domain/images";
import {
  activateModelVersion,
  type ModelVersionInput,
  registerModelVersion,
  storeModelFiles,
} from "./domain/model-versions";
import { createUserWithPassword } from "./domain/users";
import type { PrismaClient } from "./generated/prisma/client";

export const DEMO_PROJECT = "Demo";

export interface SeedOptions {
  demoImagesDir: string;
  /** Fixed first passwords (e.g. from INITIAL_ADMIN_PASSWORD); random ones are generated otherwise. */
  initialPasswords?: Partial<Record<"admin" | "annotator", string>>;
  defaultModel: ModelVersionInput;
  log: Logger;
}

export interface SeedResult {
  /** Only accounts created by this run, with their one-time passwords; empty on later runs. */
  createdAccounts: { email: string; role: string; password: string }[];
  imagesAdded: number;
}

const demoAccounts = [
  { email: "admin@sam-studio.local", name: "Admin", role: "admin" },
  { email: "annotator@sam-studio.local", name: "Annotator", role: "annotator" },
] as const;

const imageExtensions = new Set([".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"]);

/**
 * Idempotent first-run data: the default model version, an admin and an annotator, and a demo project
 * holding the fixture images. Each step checks what exists, so a run interrupted halfway completes on
 * the next start and never creates anything twice.
 */
export async function seed(db: PrismaClient, blobs: BlobStorage, options: SeedOptions): Promise<SeedResult> {
  const result: SeedResult = { createdAccounts: [], imagesAdded: 0 };

  // The default pair goes into storage like an uploaded one, so the row names storage keys, not this host's paths.
  const model = await registerModelVersion(db, await storeModelFiles(blobs, options.defaultModel));
  if (!(await db.modelVersion.findFirst({ where: { isActive: true } })))
    await activateModelVersion(db, model.id);

  const users = [];
  for (const account of demoAccounts) {
    let user = await db.user.findUnique({ where: { email: account.email } });
    if (!user) {
      const password = options.initialPasswords?.[account.role] ?? randomBytes(12).toString("base64url");
      user = await createUserWithPassword(db, { ...account, password });
      result.createdAccounts.push({ email: account.email, role: account.role, password });
    }
    users.push(user);
  }
  const [admin, annotator] = users as [(typeof users)[number], (typeof users)[number]];

  const project = await db.project.upsert({
    where: { name: DEMO_PROJECT },
    update: {},
    create: {
      name: DEMO_PROJECT,
      description: "Fixture photos to try the annotation tools on.",
      createdById: admin.id,
    },
  });
  await db.projectMember.upsert({
    where: { projectId_userId: { projectId: project.id, userId: annotator.id } },
    update: {},
    create: { projectId: project.id, userId: annotator.id, role: "annotator" },
  });

  let files: string[] = [];
  try {
    files = (await readdir(options.demoImagesDir)).filter((f) =>
      imageExtensions.has(path.extname(f).toLowerCase()),
    );
  } catch {
    options.log.warn(
      { dir: options.demoImagesDir },
      "demo images folder not found; the demo project starts empty",
    );
  }
  for (const file of files.sort()) {
    const bytes = await readFile(path.join(options.demoImagesDir, file));
    try {
      const ingested = await ingestImage(db, blobs, {
        projectId: project.id,
        filename: file,
        bytes,
        uploadedById: admin.id,
      });
      if (ingested.status === "created") result.imagesAdded += 1;
    } catch (error) {
      if (!(error instanceof ImageRejectedError)) throw error;
      options.log.warn({ file, reason: error.reason }, "skipped a demo image");
    }
  }
  return result;
}
