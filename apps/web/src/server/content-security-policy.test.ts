import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce } from "./content-security-policy";

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((part) => {
      const [name = "", ...sources] = part.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

describe("contentSecurityPolicy", () => {
  it("allows page scripts only by nonce (plus what they load), never inline or eval", () => {
    const nonce = newNonce();
    const policy = directives(contentSecurityPolicy({ nonce }));
    expect(policy.get("script-src")).toEqual([
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      "'wasm-unsafe-eval'",
    ]);
    expect(policy.get("style-src-elem")).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(policy.get("worker-src")).toEqual(["'self'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
  });

  it("without a nonce (API answers, static chunks) runs nothing inline", () => {
    const policy = directives(contentSecurityPolicy());
    expect(policy.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(policy.get("style-src-elem")).toEqual(["'self'"]);
  });

  it("adds eval only for the dev server", () => {
    expect(directives(contentSecurityPolicy({ dev: true })).get("script-src")).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy({ nonce: newNonce() })).not.toContain("'unsafe-eval'");
  });

  it("makes a fresh, well-formed nonce each time", () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(newNonce()).not.toBe(a);
  });
});
