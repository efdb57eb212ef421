import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

// Bundlers (Next) move this module, so the root is found from the working directory, not import.meta.
function findRepoRoot(start: string): string {
  let dir = path.resolve(start);
  while (true) {
    if (existsSync(path.join(dir, "prisma", "schema.prisma"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/** The repository root, so relative paths in the environment mean the same thing from every workspace. */
export const repoRoot = findRepoRoot(process.env.SAS_REPO_ROOT ?? process.cwd());

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
    );

/** One web process per core less one, at least 1 and at most 8: 1 on a 2-core machine. */
export function defaultWebProcesses(cores = os.availableParallelism()): number {
  return Math.min(8, Math.max(1, cores - 1));
}

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgresql://postgres@127.0.0.1:5432/sam_studio"),
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  /** Originals, embeddings, exports and (when embedded) the database live here. */
  DATA_DIR: z
    .string()
    .default("data")
    .transform((dir) => path.resolve(repoRoot, dir)),
  /**
   * Where blobs (originals, thumbnails, embeddings, model files, exports) live: `local` is DATA_DIR/storage;
   * `s3` is an S3-compatible bucket (S3_BUCKET) that every web and worker host shares.
   */
  STORAGE: z.enum(["local", "s3"]).default("local"),
  S3_BUCKET: z.string().trim().min(3).max(63).optional(),
  /** An S3-compatible server such as MinIO (`http://minio:9000`); unset means AWS S3 itself. */
  S3_ENDPOINT: url(["http:", "https:"]).optional(),
  S3_REGION: z.string().trim().default("us-east-1"),
  /** Unset: the AWS SDK's usual chain (AWS_* variables, profile, instance role). */
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Every key goes under this prefix (`team-a/`), so installs can share a bucket. */
  S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_.-]+\/)*$/, "must be empty or folder names each ending in /")
    .default(""),
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most self-hosted stores need. Default: on when S3_ENDPOINT is set. */
  S3_FORCE_PATH_STYLE: z.enum(["true", "false"]).optional(),
  HOST: z.string().default("127.0.0.1"),
  /** The origin users reach the app at; sign-in accepts requests from this origin only. Default: http://HOST:PORT. */
  PUBLIC_URL: url(["http:", "https:"]).optional(),
  /** Signs session cookies; at least 32 characters. `npm start` creates one in DATA_DIR when unset. */
  /** First passwords of the seeded admin and annotator; random ones are printed when unset. */
  INITIAL_ADMIN_PASSWORD: z.string().min(10, "must be at least 10 characters").optional(),
  INITIAL_ANNOTATOR_PASSWORD: z.string().min(10, "must be at least 10 characters").optional(),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /**
   * Web server processes sharing PORT (`npm start`; node:cluster). Each one runs Next and answers
   * requests on its own core, so a machine with cores to spare serves more annotators. Default: one per
   * core less one (PostgreSQL, Redis and the workers want CPU too), between 1 and 8.
   */
  WEB_PROCESSES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(() => defaultWebProcesses()),
  /**
   * Sign-in attempts allowed per client IP per minute (password guessing protection). A whole team
   * behind one office NAT shares an IP, so the default is well above better-auth's 3 per 10 s.
   */
  AUTH_SIGNIN_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /**
   * Addresses (or CIDR ranges) of reverse proxies in front of the web server, comma-separated. Only a
   * request arriving from one of them has its X-Forwarded-For read (the rightmost entry that is not itself
   * a trusted proxy); from anywhere else the client is the socket's address, whatever the headers say.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** Execution provider for the encoder in workers: `cuda` on GPU workers (needs onnxruntime-node's cuda12 binaries). */
  ORT_EXECUTION_PROVIDER: z.enum(["cpu", "cuda"]).default("cpu"),
  /**
   * How long a worker's claim on a job lasts without renewal. A worker killed mid-job loses its claim
   * after this, and another worker picks the job up.
   */
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * Embed jobs in flight per worker process. Unset: 1 on CPU, where the encoder already keeps every core
   * busy and decoding the next image beside it only slows both; 2 on CUDA, where the CPU is free to
   * decode and store while the GPU encodes.
   */
  EMBED_CONCURRENCY: z.coerce.number().int().min(1).max(16).optional(),
  /** Comma-separated queue names this worker consumes; empty means all. */
  WORKER_QUEUES: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean),
    ),
});

const withDerived = envSchema
  .refine((config) => config.STORAGE !== "s3" || config.S3_BUCKET !== undefined, {
    path: ["S3_BUCKET"],
    message: "must be set when STORAGE=s3",
  })
  .transform((config) => ({
    ...config,
    PUBLIC_URL: (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/$/, ""),
  }));

export type Env = z.infer<typeof withDerived>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment once; a bad value becomes one readable line, not a stack dump. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = withDerived.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".")} ${issue.message}`)
      .join("; ");
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  return result.data;
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv();
  return cached;
}

/** For tests that change process.env between cases. */
export function resetEnvCache(): void {
  cached = undefined;
}

/** A URL with its password replaced, for log lines and error messages. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return value;
  }
}
