import { appRouter, createContext } from "@sas/api";
import { logger } from "@sas/config";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";

export const dynamic = "force-dynamic";

const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContext({ headers: req.headers }),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR")
        logger("api").error({ path, err: error.message }, "procedure failed");
    },
  });

export { handler as GET, handler as POST };
