import { pino } from "pino";
import { env } from "./env";

export type Logger = pino.Logger;

let root: Logger | undefined;

/**
 * One JSON logger per process; `service` says which process wrote a line, and children carry
 * `reqId` / `jobId` so a request or a job can be followed across lines.
 */
export function logger(service?: string): Logger {
  root ??= pino({
    level: env().LOG_LEVEL,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ["*.password", "*.passwordHash", "*.token"],
  });
  return service ? root.child({ service }) : root;
}
