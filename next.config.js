// The web app's Next.js config (apps/web/next.config.js re-exports it).
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Workspace packages ship TypeScript sources; Next compiles them with the app.
  transpilePackages: [
    "@sas/api",
    "@sas/config",
    "@sas/db",
    "@sas/queue",
    "@sas/sa1b",
    "@sas/sam",
    "@sas/storage",
  ],
  // Native or Node-only modules stay outside the bundle.
  serverExternalPackages: [
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "pino",
    "sharp",
    "onnxruntime-node",
    "bullmq",
    "ioredis",
  ],
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  poweredByHeader: false,
  typescript: { tsconfigPath: "tsconfig.json" },
  async headers() {
    return [
      {
        // Cross-origin isolation lets onnxruntime-web use WASM threads (SharedArrayBuffer).
        source: "/:path*",
        headers: [
          { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
          { key: "Cross-Origin-Embedder-Policy", value: "require-corp" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
