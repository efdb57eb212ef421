import { logger } from "@sas/config";
import { getSessionCookie } from "better-auth/cookies";
import { z } from "zod";
import { auth, sessionUser } from "./auth";
import { clientAddress } from "./client-address";
import { isCrossOrigin } from "./origin";
import { countSignInAttempt, RateLimited, signInSucceeded } from "./rate-limit";

/** The only better-auth endpoints the product uses; everything else under /api/auth is 404. */
const SERVED = new Set(["GET /get-session", "POST /sign-in/email", "POST /sign-out"]);
/** Endpoints a request with a dead session cookie may still reach: signing in again, and signing out. */
const WITHOUT_LIVE_SESSION = new Set(["POST /sign-in/email", "POST /sign-out"]);
/** An email, a password and a flag fit in far less. */
const MAX_AUTH_BODY_BYTES = 8 * 1024;

const signInBody = z.object({
  email: z.string().max(320),
  password: z.string().max(1024),
  rememberMe: z.boolean().optional(),
  callbackURL: z.string().max(2048).optional(),
});

/** better-auth's error body shape ({code, message}), so its client shows our message the same way. */
function authError(status: number, code: string, message: string, headers: HeadersInit = {}): Response {
  return Response.json({ code, message }, { status, headers });
}

/** 401 that also tells the browser to drop the dead session cookies. */
async function sessionEnded(): Promise<Response> {
  const { authCookies } = await auth().$context;
  const headers = new Headers();
  for (const cookie of [authCookies.sessionToken, authCookies.sessionData, authCookies.dontRememberToken]) {
    headers.append("set-cookie", `${cookie.name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`);
  }
  return authError(401, "SESSION_ENDED", "your session has ended; sign in again", headers);
}

async function readBody(req: Request): Promise<string | null> {
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > MAX_AUTH_BODY_BYTES) return null;
  const text = await req.text();
  return Buffer.byteLength(text) > MAX_AUTH_BODY_BYTES ? null : text;
}

async function signIn(req: Request, body: string): Promise<Response> {
  let parsed: z.infer<typeof signInBody>;
  try {
    parsed = signInBody.parse(JSON.parse(body));
  } catch {
    return authError(400, "BAD_REQUEST", "send {email, password} as JSON");
  }
  try {
    await countSignInAttempt(clientAddress(req.headers), parsed.email);
  } catch (error) {
    if (error instanceof RateLimited) {
      return authError(429, "TOO_MANY_REQUESTS", error.message, {
        "retry-after": String(Math.ceil(error.retryAfterMs / 1000)),
      });
    }
    logger("auth").error({ err: (error as Error).message }, "sign-in limits unreadable");
    // Refused rather than unlimited while the limits cannot be counted.
    return authError(
      503,
      "UNAVAILABLE",
      "sign-in is unavailable for a moment (Redis unreachable); try again",
    );
  }
  const response = await auth().handler(new Request(req.url, { method: "POST", headers: req.headers, body }));
  if (response.ok) {
    await signInSucceeded(parsed.email).catch((error: Error) =>
      logger("auth").warn({ err: error.message }, "could not clear sign-in failures"),
    );
  }
  return response;
}

/**
 * Everything under /api/auth goes through here before better-auth: only the endpoints the product uses,
 * a dead session cookie answered 401 (a deactivated user, one whose role changed, one signed out
 * elsewhere), same-origin POSTs with small bodies, and sign-in limited per address and per account.
 */
export async function handleAuthRequest(req: Request): Promise<Response> {
  const endpoint = new URL(req.url).pathname.replace(/^\/api\/auth/, "").replace(/\/$/, "");
  const key = `${req.method} ${endpoint}`;
  if (!WITHOUT_LIVE_SESSION.has(key) && getSessionCookie(req.headers) && !(await sessionUser(req.headers))) {
    return sessionEnded();
  }
  if (!SERVED.has(key)) return authError(404, "NOT_FOUND", "not found");
  if (req.method !== "POST") return auth().handler(req);
  if (isCrossOrigin(req.headers)) return authError(403, "CROSS_ORIGIN", "requests must come from this site");
  const body = await readBody(req);
  if (body === null) return authError(413, "TOO_LARGE", "the request body is too large");
  if (key === "POST /sign-in/email") return signIn(req, body);
  return auth().handler(new Request(req.url, { method: "POST", headers: req.headers, body }));
}
