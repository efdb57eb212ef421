import os from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, defaultWebProcesses, parseEnv as parseEnvOf } from "./env";

/** The environment as a deployment would set it (NODE_ENV is left to the schema's default). */
const parseEnv = (vars: Record<string, string>) => parseEnvOf(vars as NodeJS.ProcessEnv);

describe("WEB_PROCESSES", () => {
  it("defaults to one web process per core less one, between 1 and 8", () => {
    expect([1, 2, 3, 4, 9, 64].map((cores) => defaultWebProcesses(cores))).toEqual([1, 1, 2, 3, 8, 8]);
    expect(parseEnv({}).WEB_PROCESSES).toBe(defaultWebProcesses(os.availableParallelism()));
  });

  it("takes a count from the environment and refuses anything else in one line", () => {
    expect(parseEnv({ WEB_PROCESSES: "3" }).WEB_PROCESSES).toBe(3);
    for (const bad of ["0", "1.5", "many", "65"]) {
      expect(() => parseEnv({ WEB_PROCESSES: bad })).toThrow(ConfigError);
    }
    expect(() => parseEnv({ WEB_PROCESSES: "0" })).toThrow(/^invalid configuration: WEB_PROCESSES /);
  });
});
