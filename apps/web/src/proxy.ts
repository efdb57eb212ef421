import { type NextRequest, NextResponse } from "next/server";
import { contentSecurityPolicy, newNonce } from "./server/content-security-policy";

/**
 * Gives every page its own script nonce. The policy goes on the request, where Next reads the nonce while
 * rendering and puts it on its scripts, and on the response, where the browser enforces it. Pages
 * therefore render per request (the root layout waits for the connection).
 */
export function proxy(request: NextRequest): NextResponse {
  const policy = contentSecurityPolicy({ nonce: newNonce(), dev: process.env.NODE_ENV === "development" });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  // Not API routes: Next buffers the body of every request the proxy sees (and caps it), which uploads
  // and tRPC must not pay for; they and the static chunks get the nonce-less policy from next.config.js.
  // The two sets of paths must stay disjoint, or a page would carry two policies.
  matcher: ["/((?!api/|_next/static/).*)"],
};
