import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { adminRouter } from "./routers/admin";
import { healthRouter } from "./routers/health";
import { imageRouter } from "./routers/image";
import { meRouter } from "./routers/me";
import { projectRouter } from "./routers/project";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  admin: adminRouter,
  health: healthRouter,
  image: imageRouter,
  me: meRouter,
  project: projectRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export const createCaller = createCallerFactory(appRouter);
