import { TRPCError } from "@trpc/server";
import type { ProjectAccess } from "../access";

/** Project managers and designated reviewers (and admins) review masks; annotators do not. */
export const canReview = (access: Pick<ProjectAccess, "role">) =>
  access.role === "admin" || access.role === "manager" || access.role === "reviewer";

/** The SA-1B paper's quality bar: a corrected mask whose original overlaps it above this was already good. */
export const GOOD_MASK_IOU = 0.9;

export function assertCanReview(access: Pick<ProjectAccess, "role">): void {
  if (!canReview(access)) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "only the project's managers and reviewers review masks",
    });
  }
}
