// SA-1B export end to end: a project manager filters, exports, watches the progress bar, downloads the
// first tar shard through the browser, and the test unpacks it and checks one annotation file.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { decodeRle, encodeMask, rleIoU, sa1bExportFileSchema } from "@sas/sa1b";
import { untarBytes } from "@sas/sa1b/import/testing";
import { rectMask } from "@sas/sa1b/test-utils";
import { hashPassword } from "better-auth/crypto";
import { query, signIn } from "./support";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/images");
const run = Date.now().toString(36);
const projectName = `Export ${run}`;
const MANAGER = { email: `manager-${run}@sam-studio.local`, password: "e2e-manager-password" };

/** A global manager with a password, as an admin would create one. */
async function createManager(): Promise<void> {
  const id = randomUUID();
  await query(
    `INSERT INTO "User" (id, email, name, role, "emailVerified", "updatedAt") VALUES ($1, $2, 'E2E manager', 'manager', true, now())`,
    [id, MANAGER.email],
  );
  await query(
    `INSERT INTO "Account" (id, "userId", "accountId", "providerId", password, "updatedAt")
     VALUES ($1, $2, $3, 'credential', $4, now())`,
    [randomUUID(), id, id, await hashPassword(MANAGER.password)],
  );
}

test("a manager filters, exports, watches the progress and downloads a shard that unpacks to SA-1B files", async ({
  page,
}) => {
  test.setTimeout(240_000);
  await createManager();
  await signIn(page, MANAGER);

  await page.getByTestId("new-project-link").click();
  await page.getByTestId("new-project-name").fill(projectName);
  await page.getByTestId("new-project-submit").click();
  await expect(page.getByRole("heading", { name: projectName })).toBeVisible();
  await page.getByLabel("Choose images").setInputFiles(path.join(fixtures, "dog.jpg"));
  await expect(page.getByTestId("image-tile")).toHaveCount(1, { timeout: 60_000 });

  // Two masks on the image, as annotators would have left them: one labelled "dog", one not.
  const [image] = await query<{ id: string; width: number; height: number }>(
    `SELECT i.id, i.width, i.height FROM "Image" i JOIN "Project" p ON p.id = i."projectId" WHERE p.name = $1`,
    [projectName],
  );
  const dog = encodeMask(rectMask(image!.width, image!.height, 20, 30, 220, 180));
  const other = encodeMask(rectMask(image!.width, image!.height, 5, 5, 40, 40));
  for (const [rle, label] of [
    [dog, "dog"],
    [other, ""],
  ] as const) {
    await query(
      `INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "predictedIou", "stabilityScore", "pointCoords", "cropBox",
                           source, stage, label, status, "updatedAt")
       VALUES ($1, $2, $3, '{0,0,1,1}', 1, 0.9, 0.95, '[[100, 100]]', '{}', 'manual', 'assisted_manual', $4, 'accepted', now())`,
      [randomUUID(), image!.id, JSON.stringify(rle), label],
    );
  }

  // Filter: only the "dog" masks, one image per shard.
  const panel = page.getByTestId("export-panel");
  await expect(panel).toBeVisible();
  await panel.getByTestId("export-label").fill("dog");
  await panel.getByTestId("export-shard-size").fill("1");
  await panel.getByTestId("export-start").click();

  const item = panel.getByTestId("export-item").first();
  await expect(item.getByTestId("export-progress")).toBeVisible();
  await expect(item).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
  await expect(item.getByTestId("export-progress")).toHaveAttribute("data-progress", "100");
  await expect(item.getByTestId("export-images")).toHaveText("1 / 1 images");

  const link = item.getByTestId("export-file").filter({ hasText: "sa_000000.tar" });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const saved = await download.path();
  const members = await untarBytes(await readFile(saved));
  expect([...members.keys()].sort()).toEqual(["sa_1.jpg", "sa_1.json"]);
  const file = sa1bExportFileSchema.parse(JSON.parse(members.get("sa_1.json")!.toString()));
  expect(file.image).toMatchObject({ image_id: 1, file_name: "sa_1.jpg", width: image!.width });
  expect(file.annotations).toHaveLength(1);
  const [annotation] = file.annotations;
  expect(annotation!.label).toBe("dog");
  expect(rleIoU(annotation!.segmentation, dog)).toBe(1);
  expect(decodeRle(annotation!.segmentation).data.reduce((s, v) => s + v, 0)).toBe(200 * 150);
  expect(annotation!.bbox).toEqual([20, 30, 199, 149]);
});
