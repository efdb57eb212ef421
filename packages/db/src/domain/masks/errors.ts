/** The refusals a mask write can end in; the API maps each to the tRPC code of the same name. */
export type MaskDomainErrorCode = "BAD_REQUEST" | "CONFLICT" | "NOT_FOUND" | "FORBIDDEN";

/**
 * A mask write refused by a rule of the mask domain (bad geometry, stale version, missing mask, not the
 * caller's to change). The message is meant for the person who asked. A CONFLICT from an optimistic
 * concurrency check carries the version the mask is at now, so a client can tell its copy is stale
 * without another read.
 */
export class MaskDomainError extends Error {
  override name = "MaskDomainError";
  constructor(
    readonly code: MaskDomainErrorCode,
    message: string,
    readonly currentVersion?: number,
  ) {
    super(message);
  }
}

export const maskNotFound = () => new MaskDomainError("NOT_FOUND", "mask not found");
