import { jobName, type QueueName } from "@sas/queue";
import type { JobHandler } from "./handler";
import { autoPassImageHandler } from "./handlers/auto-pass-image";
import { embedImageHandler } from "./handlers/embed-image";
import { expireLeasesHandler } from "./handlers/expire-leases";
import { exportDatasetHandler } from "./handlers/export-dataset";

// Every handler a worker can run; the queue a handler serves comes from its job definition.
const handlers: JobHandler<never>[] = [
  expireLeasesHandler as JobHandler<never>,
  embedImageHandler as JobHandler<never>,
  exportDatasetHandler as JobHandler<never>,
  autoPassImageHandler as JobHandler<never>,
];

export function handlersFor(queue: QueueName): Map<string, JobHandler<never>> {
  return new Map(handlers.filter((h) => h.definition.queue === queue).map((h) => [jobName(h.definition), h]));
}
