import { expireLeases, prisma } from "@sas/db";
import { expireLeasesJob } from "@sas/queue";
import { defineHandler } from "../handler";

export const expireLeasesHandler = defineHandler({
  definition: expireLeasesJob,
  async run(payload, { log }) {
    const expired = await expireLeases(prisma(), payload.now ? new Date(payload.now) : new Date());
    if (expired > 0) log.info({ expired }, "returned abandoned leases to the pool");
    return { expired };
  },
});
