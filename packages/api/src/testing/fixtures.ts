/**
 * Rows and callers for the routers' integration tests: what every test file would otherwise write again.
 * Integration tests only (they write to the database the global setup created).
 */
import { randomUUID } from "node:crypto";
import { logger } from "@sas/config";
import { type ImageStatus, prisma, type Role } from "@sas/db";
import { type CocoRle, createMask, encodeMask } from "@sas/sa1b";
import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
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

/**
 * Creates one user per entry (email `<key>-<tag>@fixtures.test`, the entry's name or its key) and writes
 * each row's id into the entry.
 */
export async function createTestUsers<K extends string>(
  users: Record<K, { id: string; role: Role; name?: string }>,
  tag: string,
): Promise<void> {
  for (const who of Object.keys(users) as K[]) {
    const user = await prisma().user.create({
      data: { email: `${who}-${tag}@fixtures.test`, name: users[who].name ?? who, role: users[who].role },
    });
    users[who].id = user.id;
  }
}

/** The TRPCError a call fails with (the test fails if it succeeds or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

/** A width x height mask with the rectangle x0..x1, y0..y1 (inclusive) set, as COCO RLE. */
export function rectRle(
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): CocoRle {
  const mask = createMask(width, height);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) mask.data[y * width + x] = 1;
  return encodeMask(mask);
}
