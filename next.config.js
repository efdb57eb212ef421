// The web app's Next.js config (apps/web/next.config.js re-exports it).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { contentSecurityPolicy } from "./apps/web/src/server/content-security-policy.js";

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

// Pages get their policy, with a per-request script nonce, from apps/web/src/proxy.ts; the paths the proxy
// does not see (API routes, static chunks such as the decoder worker) get the same policy without a nonce.
const staticPolicy = contentSecurityPolicy({ dev: process.env.NODE_ENV === "development" });

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Workspace packages ship TypeScript sources; Next compiles them with the app.
  transpilePackages: [
    "@sas/api",
    "@sas/auth",
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
      ...["/api/:path*", "/_next/static/:path*"].map((source) => ({
        source,
        headers: [{ key: "Content-Security-Policy", value: staticPolicy }],
      })),
    ];
  },
};

export default nextConfig;
