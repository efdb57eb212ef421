import { env } from "@sas/config";

/**
 * Whether a browser sent this request on behalf of a page from another site. State-changing requests
 * (tRPC mutations, uploads, sign-in) are refused then, so a session cookie cannot be borrowed: SameSite=Lax
 * stops most of that, but sibling subdomains count as same-site and older browsers differ.
 *
 * Browsers label requests with Sec-Fetch-Site, and send Origin on every POST; either naming another
 * origin is enough to refuse. The origin is ours when it is PUBLIC_URL's or the Host the request was sent
 * to (so http://localhost and http://127.0.0.1 both work; behind a TLS proxy, PUBLIC_URL names the outside origin).
 * Requests with neither header come from programs, not browsers, and carry no ambient cookies to abuse.
 */
export function isCrossOrigin(headers: Headers): boolean {
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  let sender: URL;
  try {
    sender = new URL(origin);
  } catch {
    // "null" (sandboxed frames, some redirects) or garbage: not ours.
    return true;
  }
  if (sender.origin === new URL(env().PUBLIC_URL).origin) return false;
  const host = headers.get("host");
  return host === null || sender.host !== host;
}
