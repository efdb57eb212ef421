import { publicProcedure, router } from "../trpc";

export const meRouter = router({
  /** Who the caller is (null when signed out); reveals only the caller's own identity. */
  get: publicProcedure.query(({ ctx }) => ctx.user),
});
