// Shared steps of the end-to-end tests: sign-in, the database the app under test uses, and clicking on
// the annotation canvas in image coordinates.
import { expect, type Page } from "@playwright/test";
import pg from "pg";

export const databaseUrl = process.env.E2E_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/sas_e2e";

export const ADMIN = { email: "admin@sam-studio.local", password: "e2e-admin-password" };
export const ANNOTATOR = { email: "annotator@sam-studio.local", password: "e2e-annotator-password" };

export async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-bar")).toBeVisible();
}

/**
 * Assigns a Demo image to a user, as a manager's assignment would: annotators only see images assigned
 * to them. Idempotent: an active lease is extended.
 */
export async function assignDemoImage(filename: string, email: string): Promise<string> {
  const [row] = await query<{ imageId: string; userId: string }>(
    `SELECT i.id AS "imageId", u.id AS "userId" FROM "Image" i JOIN "Project" p ON p.id = i."projectId",
            "User" u WHERE p.name = 'Demo' AND i.filename = $1 AND u.email = $2`,
    [filename, email],
  );
  if (!row) throw new Error(`no Demo image ${filename} or user ${email}`);
  await query(
    `UPDATE "Assignment" SET status = 'released' WHERE "imageId" = $1 AND status = 'active' AND "userId" <> $2`,
    [row.imageId, row.userId],
  );
  const extended = await query(
    `UPDATE "Assignment" SET "expiresAt" = now() + interval '1 hour'
      WHERE "imageId" = $1 AND "userId" = $2 AND status = 'active' RETURNING id`,
    [row.imageId, row.userId],
  );
  if (extended.length === 0) {
    await query(
      `INSERT INTO "Assignment" (id, "imageId", "userId", status, "leasedAt", "expiresAt")
       VALUES (gen_random_uuid(), $1, $2, 'active', now(), now() + interval '1 hour')`,
      [row.imageId, row.userId],
    );
  }
  return row.imageId;
}

/** Opens an image on the annotation screen and waits until a click can be decoded. */
export async function openAnnotation(page: Page, imageId: string) {
  await page.goto(`/annotate/${imageId}`);
  await waitForDecoder(page);
}

export async function waitForDecoder(page: Page) {
  await expect(page.getByTestId("annotate-workspace")).toHaveAttribute("data-embedding-ready", "yes", {
    timeout: 60_000,
  });
  // decoder, embedding and image all there (which runtime decodes is shown to admins only)
  await expect(page.getByTestId("annotate-workspace")).toHaveAttribute("data-ready", "yes", {
    timeout: 60_000,
  });
}

export const screen = (page: Page, x: number, y: number) =>
  page
    .evaluate(([ix, iy]) => window.__sasToScreen?.(ix!, iy!) ?? null, [x, y])
    .then((p) => {
      if (!p) throw new Error("canvas not ready");
      return p;
    });

export const decodes = (page: Page) =>
  page.evaluate(() => (window.__sasDecodePerf ?? []).filter((s) => s.kind !== "hover").length);

/** Clicks the image at original-pixel coordinates and waits for the decoded mask. */
export async function clickImage(page: Page, x: number, y: number, button: "left" | "right" = "left") {
  const before = await decodes(page);
  const p = await screen(page, x, y);
  await page.mouse.click(p.x, p.y, { button });
  await expect.poll(() => decodes(page)).toBe(before + 1);
}
