import { activateModelVersion, embeddingProgress, modelVersionSummaries } from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { reembedProject } from "../services/model-versions";
import { adminProcedure, router } from "../trpc";

/**
 * Model versions (admin only: which weights every worker and annotation page runs is an installation-wide
 * choice). Uploading a new pair is the binary route POST /api/models.
 */
export const modelsRouter = router({
  /** Every version, newest first: hashes, whether it is active, how many embeddings and masks it made. */
  list: adminProcedure.query(async ({ ctx }) => {
    const versions = await modelVersionSummaries(ctx.db);
    return versions.map((v) => ({
      id: v.id,
      name: v.name,
      notes: v.notes,
      encoderSha256: v.encoderSha256,
      decoderSha256: v.decoderSha256,
      isActive: v.isActive,
      createdAt: v.createdAt,
      embeddings: v.embeddings,
      masks: v.masks,
    }));
  }),

  /**
   * Makes a version the active one: new uploads and re-embeds use it, and annotation pages decode with it
   * once an image has its embedding. Existing embeddings and masks keep their version.
   */
  activate: adminProcedure.input(z.object({ modelVersionId: z.uuid() })).mutation(async ({ ctx, input }) => {
    const exists = await ctx.db.modelVersion.count({ where: { id: input.modelVersionId } });
    if (!exists) throw new TRPCError({ code: "NOT_FOUND", message: "model version not found" });
    await activateModelVersion(ctx.db, input.modelVersionId);
    ctx.log.info({ modelVersionId: input.modelVersionId, by: ctx.user.id }, "model version activated");
    return { modelVersionId: input.modelVersionId };
  }),

  /** Queues an embedding with the given version (default: the one the project uses) for each image lacking one. */
  reembedProject: adminProcedure
    .input(z.object({ projectId: z.uuid(), modelVersionId: z.uuid().optional() }))
    .mutation(({ ctx, input }) => reembedProject(ctx.db, input.projectId, input.modelVersionId)),

  /** Progress of a re-embed: the project's images that have this version's embedding, of all its images. */
  reembedProgress: adminProcedure
    .input(z.object({ projectId: z.uuid(), modelVersionId: z.uuid() }))
    .query(({ ctx, input }) => embeddingProgress(ctx.db, input.projectId, input.modelVersionId)),
});
