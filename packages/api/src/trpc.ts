import { randomUUID } from "node:crypto";
import { type SessionUser, sessionUser } from "@sas/auth";
import { type Logger, logger } from "@sas/config";
import { MaskDomainError, type PrismaClient, prisma, type Role, WorkflowError } from "@sas/db";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { clientMessage, outageError, VersionConflictError } from "./errors";
import { findBadText } from "./inputs";

export interface Context {
  db: PrismaClient;
  user: SessionUser | null;
  reqId: string;
  log: Logger;
}

export async function createContext({ headers }: { headers: Headers }): Promise<Context> {
  const reqId = headers.get("x-request-id") ?? randomUUID();
  return {
    db: prisma(),
    user: await sessionUser(headers),
    reqId,
    log: logger("api").child({ reqId }),
  };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    return {
      ...shape,
      // Never the text of an unexpected error (a database message, a stack): it is logged with the request id.
      message: clientMessage(error, ctx?.reqId),
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? error.cause.issues : null,
        currentVersion: error.cause instanceof VersionConflictError ? error.cause.currentVersion : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * The one place where the domain's refusals become tRPC errors, with the same code and message. A
 * version conflict keeps its current version as the cause, which the formatter above copies to
 * `error.data.currentVersion` (the browser outbox reads it there).
 */
export function domainErrorToTRPC(error: MaskDomainError | WorkflowError): TRPCError {
  return new TRPCError({
    code: error.code,
    message: error.message,
    cause:
      error instanceof WorkflowError || error.currentVersion === undefined
        ? error
        : new VersionConflictError(error.message, error.currentVersion),
  });
}

const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  const cause = result.ok ? null : result.error.cause;
  if (!result.ok && (cause instanceof MaskDomainError || cause instanceof WorkflowError)) {
    return { ...result, error: domainErrorToTRPC(cause) };
  }
  return result;
});

const timed = t.middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = await next();
  ctx.log.debug({ path, type, ok: result.ok, ms: Math.round(performance.now() - started) }, "trpc");
  return result;
});

/** An unreachable Redis or database becomes a SERVICE_UNAVAILABLE that clients retry (see errors.ts). */
const outages = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  const unavailable = result.ok ? null : outageError(result.error, { path, reqId: ctx.reqId });
  return unavailable ? { ...result, error: unavailable } : result;
});

/** Every string in every input, whatever the procedure's schema: no NUL, no unpaired surrogate (400). */
const storableText = t.middleware(async ({ getRawInput, next }) => {
  const bad = findBadText(await getRawInput());
  if (bad) throw new TRPCError({ code: "BAD_REQUEST", message: bad });
  return next();
});

/** Anyone, signed in or not: only for procedures that reveal nothing about projects or people. */
export const publicProcedure = t.procedure.use(domainErrors).use(outages).use(storableText).use(timed);

/** Signed-in, active users. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Users with one of the given global roles. */
export const roleProcedure = (...roles: Role[]) =>
  protectedProcedure.use(({ ctx, next }) => {
    if (!roles.includes(ctx.user.role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `needs role ${roles.join(" or ")}` });
    }
    return next();
  });

export const adminProcedure = roleProcedure("admin");
