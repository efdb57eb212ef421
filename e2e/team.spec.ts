import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { ADMIN, query, screen, signIn, waitForDecoder } from "./support";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/images");

async function signOutAndIn(page: Page, who: { email: string; password: string }) {
  await page.context().clearCookies();
  await signIn(page, who);
}

test("admin creates a manager and an annotator; the manager sets up a project and assigns; the annotator labels; the manager corrects", async ({
  page,
}) => {
  const run = Date.now().toString(36);
  const manager = { email: `manager-${run}@e2e.local`, password: "manager-password-1" };
  const annotator = { email: `annotator-${run}@e2e.local`, password: "annotator-password-1" };

  // Admin: two new people.
  await signIn(page, ADMIN);
  await page.getByTestId("nav-users").click();
  for (const [who, role, name] of [
    [manager, "manager", `Manager ${run}`],
    [annotator, "annotator", `Annotator ${run}`],
  ] as const) {
    await page.getByTestId("create-user-email").fill(who.email);
    await page.getByTestId("create-user-name").fill(name);
    await page.getByTestId("create-user-role").selectOption(role);
    await page.getByTestId("create-user-password").fill(who.password);
    await page.getByTestId("create-user-submit").click();
    await expect(page.locator(`[data-testid="user-row"][data-email="${who.email}"]`)).toHaveAttribute(
      "data-role",
      role,
    );
  }

  // Manager: a project, an image, the annotator as member, the image assigned to them.
  await signOutAndIn(page, manager);
  await page.getByTestId("new-project-link").click();
  await page.getByTestId("new-project-name").fill(`Team ${run}`);
  await page.getByTestId("new-project-submit").click();
  await expect(page.getByRole("heading", { name: `Team ${run}` })).toBeVisible();
  await page.getByLabel("Choose images").setInputFiles(path.join(fixtures, "truck.jpg"));
  await expect(page.getByTestId("image-tile").first()).toHaveAttribute("data-status", "ready", {
    timeout: 60_000,
  });
  await page.getByTestId("add-member-email").fill(annotator.email);
  await page.getByTestId("add-member-role").selectOption("annotator");
  await page.getByTestId("add-member-submit").click();
  await expect(page.locator(`[data-testid="member-row"][data-email="${annotator.email}"]`)).toBeVisible();
  const annotatorRow = await query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [
    annotator.email,
  ]);
  await page.getByTestId("assign-image").selectOption({ label: "truck.jpg" });
  await page.getByTestId("assign-member").selectOption(annotatorRow[0]!.id);
  await page.getByTestId("assign-submit").click();
  await expect(page.getByTestId("lease-row").filter({ hasText: "truck.jpg" })).toContainText(
    `Annotator ${run}`,
  );

  // Annotator: sees the assigned image, boxes the truck, accepts.
  await signOutAndIn(page, annotator);
  await page
    .getByTestId("project")
    .filter({ hasText: `Team ${run}` })
    .getByRole("link", { name: `Team ${run}` })
    .click();
  await page.getByTestId("annotate-link").filter({ hasText: "truck.jpg" }).click();
  await waitForDecoder(page);
  const a = await screen(page, 75, 275);
  const b = await screen(page, 1715, 855);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId("draft-summary")).toContainText("box");
  await page.getByTestId("draft-label").fill("truck");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  const imageUrl = page.url();

  // Manager: reviews the mask and corrects it (erases the truck's front half).
  await signOutAndIn(page, manager);
  await page.goto(imageUrl);
  await waitForDecoder(page);
  const item = page.getByTestId("mask-item").filter({ has: page.locator('input[value="truck"]') });
  await expect(item).toContainText(`Annotator ${run}`);
  const maskId = await item.getAttribute("data-mask-id");
  await item.getByTestId("correct").click();
  await page.keyboard.press("e");
  await page.keyboard.press("]");
  await page.keyboard.press("]");
  const c = await screen(page, 200, 300);
  const d = await screen(page, 200, 850);
  await page.mouse.move(c.x, c.y);
  await page.mouse.down();
  await page.mouse.move(d.x, d.y, { steps: 8 });
  await page.mouse.up();
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(item.getByTestId("review-decision")).toHaveText(/corrected/);

  const [review] = await query<{ decision: string; iou: number; author: string; reviewer: string }>(
    `SELECT r.decision::text AS decision, r.iou, a.email AS author, rv.email AS reviewer
       FROM "MaskReview" r JOIN "Mask" m ON m.id = r."maskId"
       JOIN "User" a ON a.id = m."authorId" JOIN "User" rv ON rv.id = r."reviewerId"
      WHERE r."maskId" = $1`,
    [maskId],
  );
  expect(review).toMatchObject({ decision: "corrected", author: annotator.email, reviewer: manager.email });
  expect(review!.iou).toBeGreaterThan(0.5);
  expect(review!.iou).toBeLessThan(1);
  // The project's review panel counts it, with the correction's IoU in the quality share.
  await page.getByRole("link", { name: `← Team ${run}` }).click();
  await expect(page.getByTestId("review-counts")).toContainText("corrected 1");
  await expect(page.getByTestId("review-good-share")).toHaveText(/^\d+%$/);

  const audit = await query<{ action: string }>(
    `SELECT action FROM "AuditLog" WHERE "targetId" = $1 OR details->>'email' = $2 OR "targetId" IN
       (SELECT id::text FROM "User" WHERE email = $2)`,
    [maskId, annotator.email],
  );
  expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(["user.created", "mask.reviewed"]));
});
