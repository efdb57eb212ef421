import { handleAuthRequest } from "@sas/auth";

export const dynamic = "force-dynamic";

// better-auth behind our checks (endpoint allowlist, dead sessions, origin, sign-in limits): see @sas/auth http.ts.
export const GET = (req: Request) => handleAuthRequest(req);
export const POST = (req: Request) => handleAuthRequest(req);
