import { BlockList, isIP } from "node:net";

/**
 * The header the web front server (packages/launcher/src/web-server.ts) sets on every request to the
 * client address it resolved from the socket. Whatever a client sent under this name is dropped there.
 */
export const CLIENT_ADDRESS_HEADER = "x-sas-client-address";
/** Set in the web server's own process once it owns the header above (so a copy of Next run some other way never trusts it). */
export const FRONT_SERVER_ENV = "SAS_FRONT_SERVER";
/** Where no front server resolved an address: every such request shares one bucket (fails closed). */
export const UNKNOWN_CLIENT = "unknown";

/** IPv4 peers of a dual-stack socket read as ::ffff:a.b.c.d; one spelling per address. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.toLowerCase().startsWith("::ffff:") && isIP(trimmed.slice(7)) === 4
    ? trimmed.slice(7)
    : trimmed;
}

/** Trusted proxies from addresses and CIDR ranges ("10.0.0.0/8", "::1"); a bad entry throws at start. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const family = isIP(address ?? "");
    if (!address || !family)
      throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
    const type = family === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The address of the client behind a request. The socket's peer is the client unless it is a trusted
 * proxy; then X-Forwarded-For is walked from the right (each proxy appends the address it saw), skipping
 * trusted proxies, and the first other entry is the client. Entries left of it were written by the client
 * and are never believed.
 */
export function resolveClientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: BlockList,
): string {
  let client = normalize(socketAddress ?? "");
  if (!client) return UNKNOWN_CLIENT;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map(normalize)
    .filter(Boolean);
  while (isTrusted(trusted, client)) {
    const next = hops.pop();
    if (next === undefined) break;
    if (!isIP(next)) return UNKNOWN_CLIENT;
    client = next;
  }
  return client;
}

/** The client address the front server resolved for this request (see CLIENT_ADDRESS_HEADER). */
export function clientAddress(headers: Headers): string {
  if (process.env[FRONT_SERVER_ENV] !== "1") return UNKNOWN_CLIENT;
  return headers.get(CLIENT_ADDRESS_HEADER) || UNKNOWN_CLIENT;
}
