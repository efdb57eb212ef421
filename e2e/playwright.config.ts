import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

// The app runs exactly as a user starts it (`npm start`), against its own database and data folder.
export default defineConfig({
  testDir: ".",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [
    ["list"],
    ["json", { outputFile: path.resolve(import.meta.dirname, "../node_modules/.cache/sas-test/e2e.json") }],
  ],
  outputDir: path.join(os.tmpdir(), "sas-e2e-results"),
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium; Playwright's own browser download is not used.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "npm start",
    cwd: path.resolve(import.meta.dirname, ".."),
    url: `${baseURL}/api/trpc/health.check`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
    env: {
      PORT: String(port),
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/sas_e2e",
      REDIS_URL: process.env.E2E_REDIS_URL ?? "redis://127.0.0.1:6379/13",
      DATA_DIR: process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), "sas-e2e-data"),
      LOG_LEVEL: "warn",
      INITIAL_ADMIN_PASSWORD: "e2e-admin-password",
      INITIAL_ANNOTATOR_PASSWORD: "e2e-annotator-password",
      // Every test signs in from 127.0.0.1, often several people in a row.
      AUTH_SIGNIN_PER_MINUTE: "1000",
    },
  },
});
