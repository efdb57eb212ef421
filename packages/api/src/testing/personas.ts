/**
 * One shared cast for authorization tests: every kind of caller the access rules tell apart, signed in for
 * real (better-auth session cookies), around one project with images, masks, leases and an embedding.
 * Integration tests only (it writes to the database and to storage under DATA_DIR).
 */
import { randomUUID } from "node:crypto";
import { auth } from "@sas/auth";
import { logger } from "@sas/config";
import {
  createUserWithPassword,
  type PrismaClient,
  type ProjectRole,
  prisma,
  type Role,
  recordEmbedding,
  registerModelVersion,
} from "@sas/db";
import { createMask, encodeMask } from "@sas/sa1b";
import { defaultModelFiles } from "@sas/sam/model-files";
import { storage } from "@sas/storage";
import { createCaller } from "../root";
import { type Context, createContext } from "../trpc";

/**
 * - anonymous: no session.
 * - outsider: an annotator of another project only.
 * - annotator: an annotator of the project holding a lease on `images.assigned` (and the author of
 *   `masks.assigned` on it).
 * - unassigned: an annotator of the project whose lease and mask are on `images.other`, never on
 *   `images.assigned`.
 * - reviewer: the project's reviewer (global role annotator: the project role is what counts).
 * - manager: the project's manager, with global role manager (which lets them create projects).
 * - admin: a global admin who is not a member.
 * - deactivated: the project's manager and a global admin, signed in, then deactivated.
 */
export const PERSONAS = [
  "anonymous",
  "outsider",
  "annotator",
  "unassigned",
  "reviewer",
  "manager",
  "admin",
  "deactivated",
] as const;
export type Persona = (typeof PERSONAS)[number];
export type SignedInPersona = Exclude<Persona, "anonymous">;

export const PERSONA_PASSWORD = "persona-test-password";
export const TEST_ORIGIN = "http://127.0.0.1:3000";
export const IMAGE_WIDTH = 40;
export const IMAGE_HEIGHT = 30;

export interface PersonaWorld {
  tag: string;
  projectId: string;
  otherProjectId: string;
  modelVersionId: string;
  images: {
    /** Ready, embedded, stored on disk; leased to `annotator`. */
    assigned: string;
    /** Ready; leased to `unassigned`. */
    other: string;
    /** Not ready (`uploaded`), nobody's. */
    pending: string;
    /** Ready, in the other project; leased to `outsider`. */
    outside: string;
  };
  masks: {
    /** On `images.assigned`, by `annotator`. */
    assigned: string;
    /** On `images.other`, by `unassigned`. */
    other: string;
  };
  users: Record<SignedInPersona, { id: string; email: string }>;
  /** A user with no project: the target of user and membership administration calls. */
  spare: { id: string; email: string };
  /** The Cookie header value for each persona ("" for anonymous). */
  cookies: Record<Persona, string>;
  /** Request headers carrying the persona's session. */
  headers(persona: Persona, extra?: Record<string, string>): Headers;
  /** tRPC contexts built the way the HTTP handler builds them (createContext from the cookie). */
  contexts: Record<Persona, Context>;
  callers: Record<Persona, ReturnType<typeof createCaller>>;
}

const globalRoles: Record<SignedInPersona, Role> = {
  outsider: "annotator",
  annotator: "annotator",
  unassigned: "annotator",
  reviewer: "annotator",
  manager: "manager",
  admin: "admin",
  deactivated: "admin",
};

const projectRoles: Partial<Record<SignedInPersona, ProjectRole>> = {
  annotator: "annotator",
  unassigned: "annotator",
  reviewer: "reviewer",
  manager: "manager",
  deactivated: "manager",
};

/** A filled rectangle as COCO RLE on an IMAGE_WIDTH x IMAGE_HEIGHT image. */
export function rectRle(x0: number, y0: number, x1: number, y1: number) {
  const mask = createMask(IMAGE_WIDTH, IMAGE_HEIGHT);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) mask.data[y * IMAGE_WIDTH + x] = 1;
  return encodeMask(mask);
}

export async function signInCookie(email: string, password = PERSONA_PASSWORD): Promise<string> {
  const response = await auth().api.signInEmail({ body: { email, password }, asResponse: true });
  if (response.status !== 200) throw new Error(`sign-in failed for ${email}: ${response.status}`);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .join("; ");
}

/**
 * Builds the world. DATA_DIR must already point at a scratch directory (call `resetEnvCache` after
 * setting it): the assigned image's original and embedding are written to storage.
 */
export async function buildPersonaWorld(db: PrismaClient = prisma()): Promise<PersonaWorld> {
  const tag = randomUUID().slice(0, 8);
  const model = await registerModelVersion(db, { name: `personas-${tag}`, ...defaultModelFiles() });
  // The project pins its model version, so whichever version other tests left active does not matter.
  const project = await db.project.create({
    data: { name: `personas-${tag}`, modelVersionId: model.id },
  });
  const other = await db.project.create({ data: { name: `personas-other-${tag}` } });

  const signedIn = PERSONAS.filter((p): p is SignedInPersona => p !== "anonymous");
  const users = {} as PersonaWorld["users"];
  // Sequential: scrypt hashing is CPU-bound anyway.
  for (const persona of signedIn) {
    const email = `${persona}-${tag}@personas.test`;
    const user = await createUserWithPassword(db, {
      email,
      name: `${persona} ${tag}`,
      role: globalRoles[persona],
      password: PERSONA_PASSWORD,
    });
    users[persona] = { id: user.id, email: user.email };
  }
  const spareUser = await db.user.create({
    data: { email: `spare-${tag}@personas.test`, name: `spare ${tag}`, role: "annotator" },
  });
  await db.projectMember.createMany({
    data: [
      ...signedIn.flatMap((p) => {
        const role = projectRoles[p];
        return role ? [{ projectId: project.id, userId: users[p].id, role }] : [];
      }),
      { projectId: other.id, userId: users.outsider.id, role: "annotator" as const },
    ],
  });

  const storageKeys: string[] = [];
  const makeImage = async (projectId: string, name: string, status: "ready" | "uploaded", i: number) => {
    const sha256 = `${tag}${i}`.padStart(64, "0");
    storageKeys.push(`images/personas/${sha256}.jpg`);
    const image = await db.image.create({
      data: {
        projectId,
        filename: `${name}.jpg`,
        mimeType: "image/jpeg",
        width: IMAGE_WIDTH,
        height: IMAGE_HEIGHT,
        sizeBytes: 4n,
        sha256,
        storageKey: `images/personas/${sha256}.jpg`,
        status,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      },
    });
    return image.id;
  };
  const images: PersonaWorld["images"] = {
    assigned: await makeImage(project.id, "assigned", "ready", 0),
    other: await makeImage(project.id, "other", "ready", 1),
    pending: await makeImage(project.id, "pending", "uploaded", 2),
    outside: await makeImage(other.id, "outside", "ready", 3),
  };

  const blobs = storage();
  // Only bytes: the file route streams originals as stored.
  await blobs.put(storageKeys[0]!, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
  const embeddingKey = `embeddings/${model.id}/${images.assigned}.f16`;
  await blobs.put(embeddingKey, new Uint8Array(64));
  await recordEmbedding(db, {
    imageId: images.assigned,
    modelVersionId: model.id,
    storageKey: embeddingKey,
    sizeBytes: 64,
    encodeMs: 1,
  });

  // Leases far in the future: nothing in the tests should see them run out.
  const expiresAt = new Date(Date.now() + 24 * 3600 * 1000);
  await db.assignment.createMany({
    data: [
      { imageId: images.assigned, userId: users.annotator.id, status: "active", expiresAt },
      { imageId: images.other, userId: users.unassigned.id, status: "active", expiresAt },
      { imageId: images.outside, userId: users.outsider.id, status: "active", expiresAt },
    ],
  });

  const makeMask = async (imageId: string, authorId: string) => {
    const rle = rectRle(2, 2, 9, 9);
    const mask = await db.mask.create({
      data: {
        imageId,
        rle: { size: [rle.size[0], rle.size[1]], counts: rle.counts },
        bbox: [2, 2, 7, 7],
        area: 64,
        cropBox: [0, 0, IMAGE_WIDTH, IMAGE_HEIGHT],
        source: "manual",
        stage: "assisted_manual",
        modelVersionId: model.id,
        authorId,
      },
    });
    return mask.id;
  };
  const masks: PersonaWorld["masks"] = {
    assigned: await makeMask(images.assigned, users.annotator.id),
    other: await makeMask(images.other, users.unassigned.id),
  };

  const cookies = { anonymous: "" } as PersonaWorld["cookies"];
  for (const persona of signedIn) cookies[persona] = await signInCookie(users[persona].email);
  // Signed in while active; deactivated afterwards, as an admin would.
  await db.user.update({ where: { id: users.deactivated.id }, data: { active: false } });

  const headers = (persona: Persona, extra: Record<string, string> = {}) => {
    const h = new Headers(extra);
    if (cookies[persona]) h.set("cookie", cookies[persona]);
    return h;
  };
  const contexts = {} as PersonaWorld["contexts"];
  const callers = {} as PersonaWorld["callers"];
  for (const persona of PERSONAS) {
    const ctx = await createContext({ headers: headers(persona, { "x-request-id": `persona-${persona}` }) });
    contexts[persona] = { ...ctx, log: logger("test") };
    callers[persona] = createCaller(contexts[persona]);
  }

  return {
    tag,
    projectId: project.id,
    otherProjectId: other.id,
    modelVersionId: model.id,
    images,
    masks,
    users,
    spare: { id: spareUser.id, email: spareUser.email },
    cookies,
    headers,
    contexts,
    callers,
  };
}
