/**
 * The cause of a CONFLICT from an optimistic-concurrency check: the version the row is at now, so a
 * client can tell its copy is stale without another read. The error formatter copies it to
 * `error.data.currentVersion`.
 */
export class VersionConflictError extends Error {
  override name = "VersionConflictError";
  constructor(
    message: string,
    readonly currentVersion: number,
  ) {
    super(message);
  }
}
