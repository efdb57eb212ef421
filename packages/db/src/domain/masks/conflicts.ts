import type { PrismaClient } from "../../generated/prisma/client";
import { MaskDomainError, maskNotFound } from "./errors";

/** CONFLICT, carrying the version the row is at now when known. */
export const conflict = (message: string, currentVersion?: number) =>
  new MaskDomainError("CONFLICT", message, currentVersion);

/** The CONFLICT to raise when a conditional update changed nothing: says what the mask is now. */
export async function staleVersion(
  db: PrismaClient,
  id: string,
  readVersion: number,
): Promise<MaskDomainError> {
  const current = await db.mask.findUnique({ where: { id }, select: { version: true, status: true } });
  if (!current) return maskNotFound();
  if (current.status === "deleted") {
    return conflict(
      `someone else deleted this mask (it is at version ${current.version}, you read ${readVersion})`,
      current.version,
    );
  }
  return conflict(
    `someone else changed this mask: it is at version ${current.version}, you read version ${readVersion}; reload it`,
    current.version,
  );
}
