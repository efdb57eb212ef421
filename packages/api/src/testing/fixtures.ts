/**
 * Rows and callers for the routers' integration tests: what every test file would otherwise write again.
 * Integration tests only (they write to the database the global setup created).
 */
import { randomUUID } from "node:crypto";
import { logger } from "@sas/config";
import { type ImageStatus, prisma, type Role } from "@sas/db";
import { createCaller } from "../root";

export interface Actor {
  id: string;
  role: Role;
}

/** A tRPC caller acting as `user` (null: anonymous), exactly as the HTTP handler builds its context. */
export function callerAs(user: Actor | null) {
  return createCaller({
    db: prisma(),
    user: user ? { id: user.id, role: user.role, email: `${user.id}@callers.test`, name: "test user" } : null,
    reqId: "test",
    log: logger("test"),
  });
}

export interface TestImage {
  projectId: string;
  filename: string;
  width?: number;
  height?: number;
  status?: ImageStatus;
  createdAt?: Date;
  error?: string | null;
}

/**
 * An image row (no file behind it: routers that only read the table need none). The sha256 is random,
 * so rows never collide with the per-project dedupe constraint.
 */
export async function createTestImage(image: TestImage): Promise<string> {
  const row = await prisma().image.create({
    data: {
      projectId: image.projectId,
      filename: image.filename,
      mimeType: "image/jpeg",
      width: image.width ?? 64,
      height: image.height ?? 48,
      sizeBytes: 1000n,
      sha256: randomUUID().replaceAll("-", "").padEnd(64, "0"),
      storageKey: `images/test/${randomUUID()}.jpg`,
      status: image.status ?? "ready",
      error: image.error ?? null,
      ...(image.createdAt ? { createdAt: image.createdAt } : {}),
    },
  });
  return row.id;
}
