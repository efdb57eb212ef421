export type { SessionUser } from "@sas/auth";
export * from "./root";
export { type Context, createContext } from "./trpc";
