import { listPasses, PASS_STAGES, passDetail, stageDefaultsForProject } from "@sas/db";
import { autoMaskParamsSchema } from "@sas/sam";
import { z } from "zod";
import { cancelPassAndJobs, startPass } from "../services/passes";
import { adminProcedure, router } from "../trpc";
import { withRules } from "./users";

const stage = z.enum(PASS_STAGES);

type ParamShape = typeof autoMaskParamsSchema.shape;

/**
 * Any subset of the parameters, checked field by field, with no defaults filled in: the stage's own
 * defaults fill the rest on the server (semi-automatic passes have stricter thresholds). Unknown names
 * are refused.
 */
const paramOverrides = z.strictObject(
  Object.fromEntries(
    Object.entries(autoMaskParamsSchema.shape).map(([name, field]) => [name, field.unwrap().optional()]),
  ) as { [K in keyof ParamShape]: z.ZodOptional<ReturnType<ParamShape[K]["unwrap"]>> },
);

/** Automatic passes (data engine stages 2 and 3): admins start, watch and cancel them. */
export const passRouter = router({
  /** The parameters a pass of this stage runs with when none are given. */
  defaults: adminProcedure
    .input(z.object({ stage, projectId: z.uuid().optional() }))
    .query(({ ctx, input }) => stageDefaultsForProject(ctx.db, input.stage, input.projectId)),

  /**
   * Starts a pass over the project's images (or the chosen ones; failed images are skipped). BAD_REQUEST
   * for images outside the project, bad parameters, nothing to process or no model version; CONFLICT
   * while the same pass is still running. Audited as `pass.started`.
   */
  start: adminProcedure
    .input(
      z.object({
        projectId: z.uuid(),
        imageIds: z.array(z.uuid()).min(1, "choose at least one image").max(100_000).optional(),
        stage,
        params: paramOverrides.optional(),
      }),
    )
    .mutation(({ ctx, input }) => withRules(() => startPass(ctx.db, ctx.user, input, ctx.log))),

  /** Stops a pass: images not yet done are cancelled, done ones keep their masks. Audited as `pass.cancelled`. */
  cancel: adminProcedure
    .input(z.object({ id: z.uuid() }))
    .mutation(({ ctx, input }) => withRules(() => cancelPassAndJobs(ctx.db, ctx.user, input.id, ctx.log))),

  /** Passes, newest first, of one project or all. */
  list: adminProcedure
    .input(z.object({ projectId: z.uuid().optional() }).optional())
    .query(({ ctx, input }) => listPasses(ctx.db, { projectId: input?.projectId })),

  /** One pass: its summary, parameters, statistics and every image's state. */
  get: adminProcedure
    .input(z.object({ id: z.uuid() }))
    .query(({ ctx, input }) => withRules(() => passDetail(ctx.db, input.id))),
});
