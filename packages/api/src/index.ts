export type { SessionUser } from "@sas/auth";
export { MAX_BATCH_SIZE, trpcBodyLimit } from "./request-bounds";
export * from "./root";
export { type Context, createContext } from "./trpc";
