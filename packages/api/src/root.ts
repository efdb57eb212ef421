import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { healthRouter } from "./routers/health";
import { meRouter } from "./routers/me";
import { projectRouter } from "./routers/project";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  health: healthRouter,
  me: meRouter,
  project: projectRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export const createCaller = createCallerFactory(appRouter);
