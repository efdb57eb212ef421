/** See content-security-policy.js. */
export function contentSecurityPolicy(options?: { nonce?: string | undefined; dev?: boolean }): string;
export function newNonce(): string;
