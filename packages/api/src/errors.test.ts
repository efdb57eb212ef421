import { RedisUnavailableError } from "@sas/queue";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { clientMessage, outageError, outageOf } from "./errors";

describe("outageOf", () => {
  it("names the service an error says is unreachable", () => {
    expect(outageOf(new RedisUnavailableError("Redis did not answer within 2500 ms"))).toBe("redis");
    expect(outageOf(new Error("Command timed out"))).toBe("redis");
    const prisma = Object.assign(new Error("Can't reach database server"), { code: "P1001" });
    expect(outageOf(prisma)).toBe("database");
    const adapter = Object.assign(new Error("driver"), { cause: { kind: "DatabaseNotReachable" } });
    expect(outageOf(new Error("wrapped", { cause: adapter }))).toBe("database");
    expect(outageOf(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe("database");
  });

  it("leaves other failures alone", () => {
    expect(outageOf(new Error('invalid byte sequence for encoding "UTF8": 0x00'))).toBeNull();
    expect(outageOf(undefined)).toBeNull();
  });
});

describe("what a client sees", () => {
  it("never the text of an unexpected error, only the request id", () => {
    const error = new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: 'invalid input syntax: relation "Mask" column "label"',
    });
    expect(clientMessage(error, "req-1")).toBe("something went wrong on the server (request req-1)");
  });

  it("an outage as SERVICE_UNAVAILABLE with a clear message", () => {
    const error = new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      cause: new RedisUnavailableError("Redis did not answer"),
    });
    const mapped = outageError(error, { path: "x" });
    expect(mapped?.code).toBe("SERVICE_UNAVAILABLE");
    expect(mapped?.message).toMatch(/Redis\) is not answering/);
  });
});
