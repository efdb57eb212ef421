import { defineConfig } from "vitest/config";

// Unit tests (`*.test.ts`) need nothing running; integration tests (`*.int.test.ts`) talk to the real
// PostgreSQL and Redis named by DATABASE_URL / REDIS_URL, in a database created fresh per run.
export default defineConfig({
  test: {
    // The JSON report feeds .ci/summary.mjs; its path is given per run by the npm scripts.
    reporters: ["default", "json"],
    outputFile: { json: "node_modules/.cache/sas-test/vitest.json" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["{apps,packages,workers}/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/*.int.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["{apps,packages,workers}/**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          environment: "node",
          globalSetup: ["packages/db/src/testing/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
