import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

const sourceRoots = ["apps/web/src", "packages", "next.config.js", "package-lock.json"];
const skip = new Set(["node_modules", ".next", "generated", "test-data", "bench"]);

async function collect(file: string, out: string[]): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info) return;
  if (info.isDirectory()) {
    for (const entry of await readdir(file)) if (!skip.has(entry)) await collect(path.join(file, entry), out);
  } else if (!/\.test\.tsx?$/.test(file)) {
    out.push(`${file}:${info.size}:${info.mtimeMs}`);
  }
}

/** Fingerprint of what the production build depends on; a changed source means a new build. */
export async function sourceFingerprint(repoRoot: string): Promise<string> {
  const entries: string[] = [];
  for (const root of sourceRoots) await collect(path.join(repoRoot, root), entries);
  return createHash("sha256").update(entries.sort().join("\n")).digest("hex");
}

const stampFile = (repoRoot: string) => path.join(repoRoot, "apps/web/.next/sas-build-fingerprint");

/** The fingerprint of the sources as they are now, and whether the existing build was made from them. */
export async function buildState(repoRoot: string): Promise<{ current: boolean; fingerprint: string }> {
  const fingerprint = await sourceFingerprint(repoRoot);
  if (!existsSync(path.join(repoRoot, "apps/web/.next/BUILD_ID"))) return { current: false, fingerprint };
  const stamp = await readFile(stampFile(repoRoot), "utf8").catch(() => "");
  return { current: stamp === fingerprint, fingerprint };
}

/**
 * Records the fingerprint taken *before* the build started: a source edited while the build ran
 * then still counts as changed on the next start.
 */
export async function recordBuild(repoRoot: string, fingerprint: string): Promise<void> {
  await writeFile(stampFile(repoRoot), fingerprint);
}
