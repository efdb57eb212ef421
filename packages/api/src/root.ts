import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { adminRouter } from "./routers/admin";
import { annotateRouter } from "./routers/annotate";
import { auditRouter } from "./routers/audit";
import { exportRouter } from "./routers/export";
import { healthRouter } from "./routers/health";
import { imageRouter } from "./routers/image";
import { meRouter } from "./routers/me";
import { modelsRouter } from "./routers/models";
import { passRouter } from "./routers/pass";
import { projectRouter } from "./routers/project";
import { reviewRouter } from "./routers/review";
import { statsRouter } from "./routers/stats";
import { usersRouter } from "./routers/users";
import { workRouter } from "./routers/work";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  admin: adminRouter,
  annotate: annotateRouter,
  audit: auditRouter,
  export: exportRouter,
  health: healthRouter,
  image: imageRouter,
  me: meRouter,
  models: modelsRouter,
  pass: passRouter,
  project: projectRouter,
  users: usersRouter,
  review: reviewRouter,
  stats: statsRouter,
  work: workRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export const createCaller = createCallerFactory(appRouter);
