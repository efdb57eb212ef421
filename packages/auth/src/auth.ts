import { createHmac, timingSafeEqual } from "node:crypto";
import { ConfigError, type Env, env, textProblem } from "@sas/config";
import { type PrismaClient, prisma, type Role } from "@sas/db";
import { APIError, betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { CLIENT_ADDRESS_HEADER } from "./client-address";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password";

function authSecret(config: Env): string {
  if (config.AUTH_SECRET) return config.AUTH_SECRET;
  if (config.NODE_ENV === "production") {
    throw new ConfigError(
      "AUTH_SECRET is not set (npm start creates one in DATA_DIR; other setups must set it)",
    );
  }
  // Tests and development only: sessions signed with it are worthless anywhere else.
  return "development-only-secret-not-for-production-use";
}

/** better-auth endpoints the product does not use: refused by the library too, not only by our route. */
export const DISABLED_AUTH_PATHS = [
  "/account-info",
  "/callback/:id",
  "/change-email",
  "/change-password",
  "/delete-user",
  "/delete-user/callback",
  "/get-access-token",
  "/link-social",
  "/list-accounts",
  "/list-sessions",
  "/refresh-token",
  "/request-password-reset",
  "/reset-password",
  "/reset-password/:token",
  "/revoke-other-sessions",
  "/revoke-session",
  "/revoke-sessions",
  "/send-verification-email",
  "/sign-in/social",
  "/sign-up/email",
  "/unlink-account",
  "/update-session",
  "/update-user",
  "/verify-email",
  "/verify-password",
];

/** The longest display name anyone can store (the users router has the same bound). */
export const MAX_NAME_LENGTH = 200;

/** A name the database hooks refuse even if some path past the routers tried to store it. */
function nameProblem(name: unknown): string | null {
  if (typeof name !== "string") return null;
  if (name.length > MAX_NAME_LENGTH) return `the name may have at most ${MAX_NAME_LENGTH} characters`;
  const text = textProblem(name);
  return text ? `the name ${text}` : null;
}

/**
 * Email + password sign-in through better-auth: scrypt password hashes, httpOnly SameSite=Lax session
 * cookies (Secure when served over https), origin checks on every state-changing request. Accounts are
 * created by admins (or the first-run seed), never by open sign-up. Sign-in limits, the endpoint
 * allowlist and the deactivated-session check live in http.ts, in front of this handler.
 */
export function createAuth(db: PrismaClient) {
  const config = env();
  return betterAuth({
    appName: "Segment Anything Studio",
    baseURL: config.PUBLIC_URL,
    secret: authSecret(config),
    trustedOrigins: [config.PUBLIC_URL],
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
    },
    disabledPaths: DISABLED_AUTH_PATHS,
    session: {
      expiresIn: 7 * 24 * 3600,
      updateAge: 24 * 3600,
      // No signed cookie cache: every request reads the session row, so deleting a user's sessions
      // (deactivation, role change) ends them at once on every endpoint, better-auth's own included.
      cookieCache: { enabled: false },
    },
    // Sign-in is limited in http.ts (per client address and per account, in Redis, shared by every web
    // instance); better-auth's own limiter keeps per-process memory and reads client-sent headers.
    rateLimit: { enabled: false },
    user: {
      additionalFields: {
        role: { type: "string", input: false, defaultValue: "annotator" },
        active: { type: "boolean", input: false, defaultValue: true },
      },
    },
    databaseHooks: {
      user: {
        create: {
          async before(user) {
            const problem = nameProblem(user.name);
            if (problem) throw new APIError("BAD_REQUEST", { message: problem });
            return { data: user };
          },
        },
        update: {
          async before(user) {
            const problem = nameProblem(user.name);
            if (problem) throw new APIError("BAD_REQUEST", { message: problem });
            return { data: user };
          },
        },
      },
      session: {
        create: {
          async before(session) {
            const user = await db.user.findUnique({
              where: { id: session.userId },
              select: { active: true },
            });
            if (!user?.active) throw new APIError("FORBIDDEN", { message: "this account is deactivated" });
            return { data: session };
          },
        },
      },
    },
    advanced: {
      database: { generateId: "uuid" },
      useSecureCookies: config.PUBLIC_URL.startsWith("https:"),
      // Sessions record the address the front server resolved, never one a client wrote in a header.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    telemetry: { enabled: false },
  });
}

export type Auth = ReturnType<typeof createAuth>;

const globalForAuth = globalThis as unknown as { sasAuth?: Auth };

export function auth(): Auth {
  globalForAuth.sasAuth ??= createAuth(prisma());
  return globalForAuth.sasAuth;
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/** A request's Cookie header as name -> value (decoded), the way better-call reads it. */
function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return null;
}

/** The session token of a signed session cookie (`token.base64(HMAC-SHA256(secret, token))`), when the signature holds. */
function verifiedToken(signed: string, secret: string): string | null {
  const dot = signed.lastIndexOf(".");
  if (dot < 1) return null;
  const token = signed.slice(0, dot);
  const signature = Buffer.from(signed.slice(dot + 1), "base64");
  const expected = createHmac("sha256", secret).update(token).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected) ? token : null;
}

interface SessionRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  expiresAt: Date;
}

/**
 * The signed-in, active user behind a request's session cookie, or null.
 *
 * Every API call asks this, so the common case is one query: the cookie's signature is checked here (as
 * better-auth checks it) and the session row is read with its user, role and active flag fresh (a
 * demotion or deactivation takes effect at once). A session that has expired, is due for its sliding
 * renewal (better-auth's `updateAge`) or carries the "don't remember me" cookie goes through
 * better-auth's own getSession, which renews or deletes it.
 */
export async function sessionUser(headers: Headers): Promise<SessionUser | null> {
  const cookies = headers.get("cookie");
  if (!cookies) return null;
  const context = await auth().$context;
  const signed = cookieValue(cookies, context.authCookies.sessionToken.name);
  if (!signed) return null;
  const token = verifiedToken(signed, context.secret);
  if (!token) return null;
  const [row] = await prisma().$queryRaw<SessionRow[]>`
    SELECT u.id::text AS id, u.email, u.name, u.role::text AS role, u.active, s."expiresAt"
    FROM "Session" s JOIN "User" u ON u.id = s."userId"
    WHERE s.token = ${token}`;
  if (!row) return null;
  const { expiresIn, updateAge } = context.sessionConfig;
  const now = Date.now();
  const renewDue = row.expiresAt.getTime() - expiresIn * 1000 + updateAge * 1000 <= now;
  const plain = row.expiresAt.getTime() > now && !renewDue;
  if (!plain || cookieValue(cookies, context.authCookies.dontRememberToken.name) !== null) {
    return sessionUserThroughBetterAuth(headers);
  }
  if (!row.active) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

async function sessionUserThroughBetterAuth(headers: Headers): Promise<SessionUser | null> {
  const session = await auth().api.getSession({ headers });
  if (!session) return null;
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { id: true, email: true, name: true, role: true, active: true },
  });
  if (!user?.active) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
