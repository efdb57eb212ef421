import type { BlobStorage } from "@sas/storage";
import type { Image, PrismaClient } from "../generated/prisma/client";
import { audit } from "./audit";
import { cleanFilename, ImageRejectedError, imageRow, type ProbedImage, storeOriginal } from "./images";
import { type ImportedMaskInput, insertImportedMasks } from "./masks/imported";
import { isUniqueViolation } from "./users";

export interface ImportedImageInput {
  projectId: string;
  filename: string;
  bytes: Uint8Array;
  /** The image as probeImage described it (the caller has checked its masks against this size). */
  probed: ProbedImage;
  masks: ImportedMaskInput[];
}

export interface ImportedImageResult {
  /** "duplicate": the project had these bytes already (same sha256); its masks were merged in. */
  status: "created" | "duplicate";
  image: Image;
  masks: { inserted: number; duplicates: number };
}

/**
 * Records an imported image and its masks in one transaction: the image row (or the project's existing
 * image with the same sha256, as uploads dedupe) and every new mask, or nothing. The original is
 * stored first, content-addressed like an upload, so a rolled-back import leaves at most an
 * unreferenced blob that the same bytes will reuse, never a row pointing at nothing.
 */
export async function importImageWithMasks(
  db: PrismaClient,
  blobs: BlobStorage,
  input: ImportedImageInput,
): Promise<ImportedImageResult> {
  const filename = cleanFilename(input.filename);
  if (!filename) throw new ImageRejectedError(input.filename, "the file has no name");
  const { probed } = input;
  const storageKey = await storeOriginal(blobs, probed, input.bytes);

  const attempt = () =>
    db.$transaction(
      async (tx) => {
        const existing = await tx.image.findUnique({
          where: { projectId_sha256: { projectId: input.projectId, sha256: probed.sha256 } },
        });
        const image =
          existing ??
          (await tx.image.create({
            data: imageRow(input.projectId, filename, probed, input.bytes, storageKey),
          }));
        const masks = await insertImportedMasks(tx, { imageId: image.id, masks: input.masks });
        return { status: existing ? "duplicate" : "created", image, masks } as const;
      },
      // Thousands of masks per image take a while to insert; the default 5 s is too tight.
      { timeout: 60_000 },
    );
  try {
    return await attempt();
  } catch (error) {
    // The same bytes imported twice at once: the unique (projectId, sha256) index picked the other one,
    // which is committed now, so a second attempt merges into it.
    if (isUniqueViolation(error)) return attempt();
    throw error;
  }
}

/**
 * The project an import goes into, by name, created when missing (with no members: an admin adds
 * them; audited as created by no one, with the tool named).
 */
export async function findOrCreateProjectByName(
  db: PrismaClient,
  name: string,
  via: string,
): Promise<{ id: string; name: string; created: boolean }> {
  const select = { id: true, name: true } as const;
  const existing = await db.project.findUnique({ where: { name }, select });
  if (existing) return { ...existing, created: false };
  try {
    return await db.$transaction(async (tx) => {
      const project = await tx.project.create({ data: { name }, select });
      await audit(tx, {
        actorId: null,
        action: "project.created",
        targetType: "project",
        targetId: project.id,
        projectId: project.id,
        details: { name, via },
      });
      return { ...project, created: true };
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const raced = await db.project.findUniqueOrThrow({ where: { name }, select });
    return { ...raced, created: false };
  }
}
