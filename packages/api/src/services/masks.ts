/**
 * The API's side of mask writes: the permission step. The writes themselves, their validation and the
 * rule of who may change which mask live in the mask domain module (@sas/db, domain/masks).
 */
import type { SessionUser } from "@sas/auth";
import type { PrismaClient } from "@sas/db";
import { assertCanViewMaskImage } from "../access";

export type { MaskView } from "@sas/db";

/**
 * A mask's image together with the access its project grants the caller. Someone who may not see the
 * image learns nothing about its masks: NOT_FOUND, exactly as for an id that does not exist. One query
 * (see access.ts).
 */
export function assertCanViewMask(db: PrismaClient, user: Pick<SessionUser, "id" | "role">, maskId: string) {
  return assertCanViewMaskImage(db, user, maskId);
}
