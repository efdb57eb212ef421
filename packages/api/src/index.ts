export type { SessionUser } from "@sas/auth";
export * from "./root";
export { type Context, createContext } from "./trpc";
export { MAX_BATCH_SIZE, trpcBodyLimit } from "./request-bounds";
