export * from "./root";
export { type Context, createContext, type SessionUser } from "./trpc";
