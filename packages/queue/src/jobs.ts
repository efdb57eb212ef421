import { z } from "zod";

/** Queue names are part of the wire contract between web and workers. */
export const queueNames = ["maintenance", "embed", "auto", "export"] as const;
export type QueueName = (typeof queueNames)[number];

/**
 * A job kind: which queue carries it, a versioned name (a handler only takes the versions it knows, so
 * a rolling deploy never feeds old workers new payloads) and the zod schema of its payload.
 */
export interface JobDefinition<Payload> {
  queue: QueueName;
  name: string;
  version: number;
  payload: z.ZodType<Payload>;
}

export function defineJob<Payload>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}

export const jobName = (definition: JobDefinition<unknown>) => `${definition.name}@v${definition.version}`;

export const expireLeasesJob = defineJob({
  queue: "maintenance",
  name: "expire-leases",
  version: 1,
  payload: z.object({ now: z.iso.datetime().optional() }),
});

/** One job per (image, model version): computes and stores the image embedding the browser decodes against. */
export const embedImageJob = defineJob({
  queue: "embed",
  name: "embed-image",
  version: 1,
  payload: z.object({ imageId: z.uuid(), modelVersionId: z.uuid() }),
});

/**
 * One image of an automatic pass (semi- or fully automatic): the pass row (`Job`) holds the stage,
 * parameters and model version, so the payload only names the work item.
 */
export const autoPassImageJob = defineJob({
  queue: "auto",
  name: "auto-pass-image",
  version: 1,
  payload: z.object({ jobId: z.uuid(), imageId: z.uuid() }),
});

/** One SA-1B export: the Export and Job rows hold its parameters, so the payload only names it. */
export const exportDatasetJob = defineJob({
  queue: "export",
  name: "export-dataset",
  version: 1,
  payload: z.object({ exportId: z.uuid() }),
});

export class PayloadError extends Error {
  override name = "PayloadError";
}

export function parsePayload<Payload>(definition: JobDefinition<Payload>, data: unknown): Payload {
  const parsed = definition.payload.safeParse(data);
  if (!parsed.success) {
    throw new PayloadError(`bad payload for ${jobName(definition)}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
