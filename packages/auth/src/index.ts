export * from "./auth";
export * from "./client-address";
export * from "./http";
export * from "./origin";
export * from "./password";
export { closeRateLimits, FREE_FAILURES, MAX_BACKOFF_MS } from "./rate-limit";
