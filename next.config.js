// The web app's Next.js config (apps/web/next.config.js re-exports it).
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/**
 * Everything from this origin only; no plugins, no framing (frame-ancestors 'none'), no <base> or form
 * posts elsewhere. The decoder needs two things beyond that: 'wasm-unsafe-eval' (onnxruntime-web compiles
 * WebAssembly; JavaScript eval stays forbidden) and workers (its Web Worker and ORT's thread workers,
 * same-origin or blob:). Next's pages carry inline bootstrap scripts without a nonce when prerendered, so
 * inline scripts and styles are allowed; scripts from anywhere else are not. The dev server also needs eval.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'${process.env.NODE_ENV === "development" ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

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
          { key: "Content-Security-Policy", value: contentSecurityPolicy },
        ],
      },
    ];
  },
};

export default nextConfig;
