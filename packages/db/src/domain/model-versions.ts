import type { ModelVersion, PrismaClient } from "../generated/prisma/client";

export interface ModelVersionInput {
  name: string;
  encoderPath: string;
  /** sha256 of the encoder file, checked by the caller (workers refuse files that stop matching). */
  encoderSha256: string;
  decoderPath: string;
  decoderSha256: string;
  notes?: string;
}

/** Records a SAM encoder/decoder pair. Registering an existing name returns it unchanged. */
export async function registerModelVersion(
  db: PrismaClient,
  input: ModelVersionInput,
): Promise<ModelVersion> {
  return db.modelVersion.upsert({
    where: { name: input.name },
    update: {},
    create: { ...input, notes: input.notes ?? "" },
  });
}

/** Makes one version the active one; exactly one is active afterwards. */
export async function activateModelVersion(db: PrismaClient, id: string): Promise<void> {
  await db.$transaction([
    db.modelVersion.updateMany({ where: { isActive: true, NOT: { id } }, data: { isActive: false } }),
    db.modelVersion.update({ where: { id }, data: { isActive: true } }),
  ]);
}
