import { logger } from "@sas/config";
import { MaskDomainError, type PrismaClient } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { describe, expect, it } from "vitest";
import { VersionConflictError } from "./errors";
import { type Context, createCallerFactory, publicProcedure, router } from "./trpc";

const refusals = router({
  stale: publicProcedure.mutation(() => {
    throw new MaskDomainError("CONFLICT", "someone else changed this mask", 3);
  }),
  notYours: publicProcedure.mutation(() => {
    throw new MaskDomainError("FORBIDDEN", "not yours");
  }),
  broken: publicProcedure.mutation(() => {
    throw new Error("database said something internal");
  }),
});

const context: Context = {
  // The procedures above never reach the database.
  db: {} as PrismaClient,
  user: null,
  reqId: "test",
  log: logger("test"),
};
const caller = createCallerFactory(refusals)(context);

async function refusal(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("mask domain errors", () => {
  it("become tRPC errors with the same code and message", async () => {
    const error = await refusal(caller.notYours());
    expect([error.code, error.message]).toEqual(["FORBIDDEN", "not yours"]);
    const stale = await refusal(caller.stale());
    expect([stale.code, stale.message]).toEqual(["CONFLICT", "someone else changed this mask"]);
    expect(stale.cause).toBeInstanceOf(VersionConflictError);
    expect((stale.cause as VersionConflictError).currentVersion).toBe(3);
  });

  it("leave other errors alone", async () => {
    expect((await refusal(caller.broken())).code).toBe("INTERNAL_SERVER_ERROR");
  });

  it("put the current version in the error data an HTTP client reads", async () => {
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://localhost/api/trpc/stale", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: null }),
      }),
      router: refusals,
      createContext: () => context,
    });
    expect(response.status).toBe(409);
    const body = (await response.json()) as {
      error: { json: { message: string; data: { code: string; currentVersion: number | null } } };
    };
    expect(body.error.json.message).toBe("someone else changed this mask");
    expect(body.error.json.data).toMatchObject({ code: "CONFLICT", currentVersion: 3 });
  });
});
