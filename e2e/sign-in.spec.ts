import { expect, test } from "@playwright/test";

test("an annotator signs in and sees the demo project with its images", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("annotator@sam-studio.local");
  await page.getByLabel("Password").fill("e2e-annotator-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("account-bar")).toContainText("Annotator · annotator");
  const project = page.getByTestId("project").filter({ hasText: "Demo" });
  // At least the seven seeded images (an earlier local run may have uploaded more).
  await expect(project).toContainText(/\d+ of ([7-9]|\d{2,}) images ready/);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.getByTestId("project")).toHaveCount(0);
});

test("a wrong password is refused with a message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("annotator@sam-studio.local");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toContainText(/invalid/i);
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("project data is refused to anonymous callers", async ({ request }) => {
  const response = await request.get("/api/trpc/project.list");
  expect(response.status()).toBe(401);
});
