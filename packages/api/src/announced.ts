import { z } from "zod";
import { type MaskEvent, publishMaskEvent } from "./services/mask-events";
import { protectedProcedure } from "./trpc";

const changedMask = z.object({ id: z.string(), imageId: z.uuid(), version: z.number().int() });

/** A mask mutation that, once it succeeded, tells everyone viewing the image (see mask-events.ts). */
export const announcedProcedure = (type: MaskEvent["type"]) =>
  protectedProcedure.use(async ({ ctx, next }) => {
    const result = await next();
    const mask = result.ok ? changedMask.safeParse(result.data) : null;
    if (mask?.success) {
      await publishMaskEvent({
        type,
        imageId: mask.data.imageId,
        maskId: mask.data.id,
        version: mask.data.version,
        actorId: ctx.user.id,
      });
    }
    return result;
  });
