import { describe, expect, it } from "vitest";
import { resolveClientAddress, trustedProxyList, UNKNOWN_CLIENT } from "./client-address";

describe("resolveClientAddress", () => {
  const none = trustedProxyList([]);
  const proxies = trustedProxyList(["10.0.0.0/8", "::1"]);

  it("is the socket's peer when that is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(resolveClientAddress("203.0.113.5", "127.0.0.1", none)).toBe("203.0.113.5");
    expect(resolveClientAddress("::ffff:203.0.113.5", undefined, none)).toBe("203.0.113.5");
    expect(resolveClientAddress(undefined, "1.2.3.4", none)).toBe(UNKNOWN_CLIENT);
  });

  it("walks X-Forwarded-For from the right past trusted proxies only", () => {
    expect(resolveClientAddress("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.7", proxies)).toBe("203.0.113.9");
    expect(resolveClientAddress("::1", ["6.6.6.6", "198.51.100.3"], proxies)).toBe("198.51.100.3");
    // Every hop trusted: the leftmost proxy is the best we know.
    expect(resolveClientAddress("10.0.0.2", "10.0.0.9", proxies)).toBe("10.0.0.9");
    // A proxy that forwarded garbage: nobody's bucket but the shared unknown one.
    expect(resolveClientAddress("10.0.0.2", "not-an-ip", proxies)).toBe(UNKNOWN_CLIENT);
  });

  it("refuses a TRUSTED_PROXIES entry that is not an address", () => {
    expect(() => trustedProxyList(["proxy.internal"])).toThrow(/not an IP address/);
  });
});
