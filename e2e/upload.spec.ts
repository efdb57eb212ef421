import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import sharp from "sharp";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/images");

test("an admin adds files to the Demo project: the image is added, the text file refused", async ({
  page,
}) => {
  // The demo project already holds the fixtures byte for byte, so re-encode one with a unique EXIF
  // description: the upload is new on every run, never a duplicate.
  const dir = await mkdtemp(path.join(os.tmpdir(), "sas-e2e-upload-"));
  const imageName = `street-${Date.now()}.jpg`;
  const imagePath = path.join(dir, imageName);
  await writeFile(
    imagePath,
    await sharp(path.join(fixtures, "truck.jpg"))
      .withExif({ IFD0: { ImageDescription: randomUUID() } })
      .jpeg({ quality: 85 })
      .toBuffer(),
  );

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("admin@sam-studio.local");
  await page.getByLabel("Password").fill("e2e-admin-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("project").filter({ hasText: "Demo" }).getByRole("link", { name: "Demo" }).click();
  await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Demo" })).toBeVisible();

  const total = page.getByTestId("total-count");
  await expect(total).toHaveText(/^\d+$/);
  const before = Number(await total.textContent());

  // The image through the file picker, the text file dropped on the drop zone.
  await page.getByLabel("Choose images").setInputFiles(imagePath);
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["shopping list\n"], "notes.txt", { type: "text/plain" }));
    return transfer;
  });
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: dropped });

  const imageRow = page.getByTestId("upload-item").filter({ hasText: imageName });
  await expect(imageRow.getByRole("progressbar", { name: `Upload of ${imageName}` })).toBeVisible();
  await expect(imageRow).toHaveAttribute("data-state", "added");
  await expect(imageRow).toContainText(/added \(\d+×\d+\)/);

  const textRow = page.getByTestId("upload-item").filter({ hasText: "notes.txt" });
  await expect(textRow).toHaveAttribute("data-state", "rejected");
  await expect(textRow).toContainText("rejected: not a readable image");

  await expect(total).toHaveText(String(before + 1));
  await expect(page.getByRole("img", { name: imageName })).toBeVisible();
  // The thumbnail really loaded (same-origin under COEP require-corp); thumbnails load lazily, when seen.
  await page.getByRole("img", { name: imageName }).scrollIntoViewIfNeeded();
  await expect
    .poll(() =>
      page.getByRole("img", { name: imageName }).evaluate((img: HTMLImageElement) => img.naturalWidth),
    )
    .toBeGreaterThan(0);
});
