// Bundles the Node entry points (launcher, web server, worker) into dist/*.mjs for the Docker image, which
// runs them with plain `node`: no tsx and no dev dependencies. Workspace packages (@sas/*, TypeScript
// sources) are compiled in; every other package stays an import that node resolves from node_modules at
// run time, so native modules (onnxruntime-node, sharp) and Next load exactly as they do in development.
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outdir = path.join(repoRoot, "dist");

const entryPoints = {
  launcher: "packages/launcher/src/start.ts",
  "web-server": "packages/launcher/src/web-server.ts",
  worker: "workers/src/main.ts",
};

/** Bare imports other than our workspace packages are left to node_modules. */
const externalPackages = {
  name: "external-packages",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@sas/") ? undefined : { path: args.path, external: true },
    );
  },
};

await rm(outdir, { recursive: true, force: true });
const present = Object.fromEntries(
  Object.entries(entryPoints).filter(([, source]) => existsSync(path.join(repoRoot, source))),
);
const result = await build({
  absWorkingDir: repoRoot,
  entryPoints: present,
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: "linked",
  logLevel: "warning",
  metafile: true,
  plugins: [externalPackages],
  // Some dependencies compiled in are CommonJS-flavoured and call require().
  banner: {
    js: 'import { createRequire as __sasCreateRequire } from "node:module"; const require = __sasCreateRequire(import.meta.url);',
  },
});
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith(".mjs")) process.stdout.write(`${file}  ${(info.bytes / 1024).toFixed(0)} KiB\n`);
}
