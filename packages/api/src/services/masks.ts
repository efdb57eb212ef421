/**
 * The API's side of mask writes: the permission step. The writes themselves, their validation and the
 * rule of who may change which mask live in the mask domain module (@sas/db, domain/masks).
 */
import type { SessionUser } from "@sas/auth";
import type { PrismaClient } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { assertCanViewImage } from "../access";

export type { MaskView } from "@sas/db";

const maskNotFound = () => new TRPCError({ code: "NOT_FOUND", message: "mask not found" });

/**
 * A mask's image together with the access its project grants the caller. Someone who may not see the
 * image learns nothing about its masks: NOT_FOUND, exactly as for an id that does not exist.
 */
export async function assertCanViewMask(
  db: PrismaClient,
  user: Pick<SessionUser, "id" | "role">,
  maskId: string,
) {
  const mask = await db.mask.findUnique({ where: { id: maskId }, select: { imageId: true } });
  if (!mask) throw maskNotFound();
  try {
    // The image's rule, not only the project's: annotators reach masks only on images assigned to them.
    return await assertCanViewImage(db, user, mask.imageId);
  } catch (error) {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") throw maskNotFound();
    throw error;
  }
}
