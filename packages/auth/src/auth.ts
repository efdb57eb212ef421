import { ConfigError, type Env, env } from "@sas/config";
import { type PrismaClient, prisma, type Role } from "@sas/db";
import { APIError, betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";

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

/**
 * Email + password sign-in through better-auth: scrypt password hashes, httpOnly SameSite=Lax session
 * cookies (Secure when served over https), origin checks on every state-changing request. Accounts are
 * created by admins (or the first-run seed), never by open sign-up.
 */
export function createAuth(db: PrismaClient) {
  const config = env();
  return betterAuth({
    appName: "Segment Anything Studio",
    baseURL: config.PUBLIC_URL,
    secret: authSecret(config),
    trustedOrigins: [config.PUBLIC_URL],
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 10 },
    session: {
      expiresIn: 7 * 24 * 3600,
      updateAge: 24 * 3600,
      // Every API call checks the session; a signed cookie cache spares the two session/user reads per
      // request. Safe because sessionUser re-reads the user (role, active) on every call anyway.
      cookieCache: { enabled: true, maxAge: 60 },
    },
    rateLimit: {
      enabled: config.NODE_ENV === "production",
      window: 60,
      max: 600,
      customRules: { "/sign-in/email": { window: 60, max: config.AUTH_SIGNIN_PER_MINUTE } },
    },
    user: {
      additionalFields: {
        role: { type: "string", input: false, defaultValue: "annotator" },
        active: { type: "boolean", input: false, defaultValue: true },
      },
    },
    databaseHooks: {
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
    advanced: { database: { generateId: "uuid" }, useSecureCookies: config.PUBLIC_URL.startsWith("https:") },
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

/** The signed-in, active user behind a request's session cookie, or null. */
export async function sessionUser(headers: Headers): Promise<SessionUser | null> {
  const session = await auth().api.getSession({ headers });
  if (!session) return null;
  // Role and active flag are read fresh, so a demotion or deactivation takes effect at once.
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { id: true, email: true, name: true, role: true, active: true },
  });
  if (!user?.active) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
