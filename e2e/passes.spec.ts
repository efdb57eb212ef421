// Stages 2 and 3 of the data engine end to end: an admin runs a semi-automatic pass (a real worker of
// `npm start` runs it), then an annotator works on the pre-filled image.
import path from "node:path";
import { expect, test } from "@playwright/test";
import { ADMIN, ANNOTATOR, clickImage, openAnnotation, query, screen, signIn } from "./support";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/images");
const run = Date.now().toString(36);
const projectName = `Passes ${run}`;
const shots = process.env.E2E_SCREENSHOTS;

test.describe.configure({ mode: "serial" });

/** Set by the first test: the pre-filled image. */
let imageId = "";

interface PassMaskRow {
  id: string;
  source: string;
  status: string;
  stage: string;
  jobId: string | null;
  area: number;
  bbox: number[];
  version: number;
  authorEmail: string | null;
}

const masksOf = (id: string) =>
  query<PassMaskRow>(
    `SELECT m.id, m.source::text AS source, m.status::text AS status, m.stage::text AS stage, m."jobId", m.area, m.bbox, m.version,
            u.email AS "authorEmail"
       FROM "Mask" m LEFT JOIN "User" u ON u.id = m."authorId"
      WHERE m."imageId" = $1 ORDER BY m."createdAt", m.id`,
    [id],
  );

test("an admin starts a semi-automatic pass on a project and watches it finish", async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN);

  // A project with one image, its annotator a member with the image assigned (as a manager does it).
  await page.getByTestId("new-project-link").click();
  await page.getByTestId("new-project-name").fill(projectName);
  await page.getByTestId("new-project-submit").click();
  await expect(page.getByRole("heading", { name: projectName })).toBeVisible();
  await page.getByLabel("Choose images").setInputFiles(path.join(fixtures, "dogs.jpg"));
  await expect(page.getByTestId("image-tile").first()).toHaveAttribute("data-status", "ready", {
    timeout: 90_000,
  });
  await page.getByTestId("add-member-email").fill(ANNOTATOR.email);
  await page.getByTestId("add-member-role").selectOption("annotator");
  await page.getByTestId("add-member-submit").click();
  await expect(page.locator(`[data-testid="member-row"][data-email="${ANNOTATOR.email}"]`)).toBeVisible();
  const [annotator] = await query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [
    ANNOTATOR.email,
  ]);
  await page.getByTestId("assign-image").selectOption({ label: "dogs.jpg" });
  await page.getByTestId("assign-member").selectOption(annotator!.id);
  await page.getByTestId("assign-submit").click();
  await expect(page.getByTestId("lease-row").filter({ hasText: "dogs.jpg" })).toBeVisible();
  const [image] = await query<{ id: string }>(
    `SELECT i.id FROM "Image" i JOIN "Project" p ON p.id = i."projectId" WHERE p.name = $1`,
    [projectName],
  );
  imageId = image!.id;

  // The passes page, from the project page: the project is chosen already.
  await page.getByTestId("project-passes-link").click();
  await expect(page).toHaveURL(/\/admin\/passes\?project=/);
  await expect(page.getByTestId("pass-project").locator("option:checked")).toHaveText(
    new RegExp(`^${projectName} `),
  );
  // Only the chosen image, to show the selection works (it is the project's only one).
  await page.getByTestId("pass-scope-some").check();
  await page.locator('[data-testid="pass-image-checkbox"][data-filename="dogs.jpg"]').check();
  await page.getByTestId("pass-stage-semi_automatic").check();
  // The semi-automatic defaults are pre-filled: the thresholds calibrated for the bundled model, said so,
  // stricter than the fully automatic ones ...
  await page.getByTestId("pass-advanced").locator("summary").click();
  await expect(page.getByTestId("param-predIouThresh")).toHaveValue("0.9");
  await expect(page.getByTestId("param-stabilityScoreThresh")).toHaveValue("0.95");
  await expect(page.getByTestId("param-pointsPerSide")).toHaveValue("32");
  await expect(page.getByTestId("pass-calibration")).toContainText("calibrated for this project's model");
  await expect(page.getByTestId("pass-calibration")).toContainText("0.94 / 0.97");
  // ... and a small grid without crops keeps the pass short on a CPU (about 7 masks on dogs.jpg).
  await page.getByTestId("param-pointsPerSide").fill("8");
  await page.getByTestId("param-cropNLayers").fill("0");
  await expect(page.getByTestId("pass-params-summary")).toHaveText(
    "8×8 points + no crops · IoU ≥ 0.9 · stability ≥ 0.95",
  );
  if (shots) await page.screenshot({ path: `${shots}/passes-form.png`, fullPage: true });
  await page.getByTestId("pass-start").click();

  const row = page.getByTestId("pass-row").filter({ hasText: projectName }).first();
  await expect(row).toBeVisible();
  // Progress shows while it runs, then it finishes: 1 of 1 image.
  await expect(row.getByTestId("pass-progress")).toHaveAttribute("data-total", "1");
  await expect(row).toHaveAttribute("data-status", "completed", { timeout: 150_000 });
  await expect(row.getByTestId("pass-progress")).toHaveAttribute("data-done", "1");
  await expect(row.getByTestId("pass-images")).toHaveText("1 / 1 images");
  await expect(row.getByTestId("pass-cancel")).toHaveCount(0);
  const masks = (await masksOf(imageId)).filter((m) => m.source === "semi_auto");
  expect(masks.length).toBeGreaterThan(1);
  expect(masks.every((m) => m.status === "proposed" && m.stage === "semi_automatic" && m.jobId)).toBe(true);
  await expect(row.getByTestId("pass-masks")).toHaveText(`${masks.length} masks`);
  if (shots) await page.screenshot({ path: `${shots}/passes-list.png`, fullPage: true });

  // The pass's own page: statistics and the image, which opens on the annotation screen.
  await row.getByTestId("pass-link").click();
  await expect(page.getByTestId("pass-detail")).toHaveAttribute("data-status", "completed");
  await expect(page.getByTestId("pass-masks-per-image")).toHaveText(masks.length.toFixed(1));
  await expect(page.getByTestId("pass-filter-chart").locator("tr").first()).toBeVisible();
  const imageRow = page.getByTestId("pass-image-row").filter({ hasText: "dogs.jpg" });
  await expect(imageRow).toHaveAttribute("data-status", "completed");
  await expect(imageRow.locator("td").nth(2)).toHaveText(String(masks.length));
  if (shots) await page.screenshot({ path: `${shots}/pass-detail.png`, fullPage: true });
  await imageRow.getByTestId("pass-image-link").click();
  await expect(page).toHaveURL(new RegExp(`/annotate/${imageId}$`));
  await expect(page.locator('[data-testid="mask-item"][data-source="semi_auto"]')).toHaveCount(masks.length);
});

test("an annotator sees the pre-filled masks and the coverage, deletes one, adds a missing one", async ({
  page,
}) => {
  test.skip(!imageId, "needs the pass of the previous test");
  await signIn(page, ANNOTATOR);
  await openAnnotation(page, imageId);
  const before = await masksOf(imageId);
  const prefilled = before.filter((m) => m.source === "semi_auto" && m.status === "proposed");
  expect(prefilled.length).toBeGreaterThan(0);

  // The pre-filled masks: automatic, proposed (dashed on the canvas), with a legend; coverage above 0.
  const proposals = page.locator('[data-testid="mask-item"][data-source="semi_auto"][data-proposed="yes"]');
  await expect(proposals).toHaveCount(prefilled.length);
  await expect(proposals.first().getByTestId("proposed-badge")).toBeVisible();
  await expect(page.getByTestId("mask-legend")).toContainText("proposed");
  const coverage = page.getByTestId("coverage");
  await expect(coverage).toHaveText(/^\d+(\.\d)?%$/);
  const shareBefore = Number(await coverage.getAttribute("data-share"));
  expect(shareBefore).toBeGreaterThan(0);
  expect(shareBefore).toBeLessThanOrEqual(1);
  // What is left: the uncovered regions on (button), off and on again (U).
  await page.getByTestId("toggle-uncovered").click();
  await expect(page.getByTestId("toggle-uncovered")).toHaveAttribute("aria-pressed", "true");
  await page.keyboard.press("u");
  await expect(page.getByTestId("toggle-uncovered")).toHaveAttribute("aria-pressed", "false");
  await page.keyboard.press("u");
  await expect(page.getByTestId("toggle-uncovered")).toHaveAttribute("aria-pressed", "true");
  if (shots) await page.screenshot({ path: `${shots}/annotate-prefilled.png` });

  // Delete one pre-filled mask, the largest (the sky or the beach): the coverage goes down with it.
  const deleted = prefilled.reduce((a, b) => (b.area > a.area ? b : a));
  await page.locator(`[data-mask-id="${deleted.id}"]`).getByTestId("delete-mask").click();
  // Every delete asks first.
  await page.locator(`[data-mask-id="${deleted.id}"]`).getByTestId("confirm-delete-yes").click();
  await expect(page.locator(`[data-mask-id="${deleted.id}"]`)).toHaveCount(0);
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  await expect.poll(async () => Number(await coverage.getAttribute("data-share"))).toBeLessThan(shareBefore);

  // Add a missing one by clicking: the golden dog.
  await clickImage(page, 510, 350);
  await page.getByTestId("draft-label").fill("dog");
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(page.locator('[data-testid="mask-item"][data-source="manual"]')).toHaveCount(1);

  // Another proposal, if there is one, is accepted as it is.
  const accepted = prefilled.find((m) => m.id !== deleted.id);
  if (accepted) {
    await page.locator(`[data-mask-id="${accepted.id}"]`).getByTestId("accept-proposal").click();
    await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
    await expect(page.locator(`[data-mask-id="${accepted.id}"]`)).toHaveAttribute("data-proposed", "no");
  }
  // A third one is fixed: the eraser across its middle, then saved, which also accepts it.
  const fixed = prefilled.find((m) => m.id !== deleted.id && m.id !== accepted?.id);
  if (fixed) {
    await page.locator(`[data-mask-id="${fixed.id}"]`).getByTestId("fix-proposal").click();
    await expect(page.getByTestId("accept")).toHaveText(/Save fix/);
    await page.keyboard.press("e");
    const [x, y, w, h] = fixed.bbox.map(Number) as [number, number, number, number];
    const a = await screen(page, x - 5, y + h / 2);
    const b = await screen(page, x + w + 5, y + h / 2);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 8 });
    await page.mouse.up();
    await page.getByTestId("accept").click();
    await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
    await expect(page.locator(`[data-mask-id="${fixed.id}"]`)).toHaveAttribute("data-proposed", "no");
  }
  if (shots) await page.screenshot({ path: `${shots}/annotate-after.png` });

  // Both are saved: one semi-automatic mask deleted, one manual mask made by the annotator.
  const after = await masksOf(imageId);
  const byId = new Map(after.map((m) => [m.id, m]));
  expect(byId.get(deleted.id)?.status).toBe("deleted");
  expect(after.filter((m) => m.source === "semi_auto" && m.status === "deleted")).toHaveLength(1);
  const manual = after.filter((m) => m.source === "manual" && m.status !== "deleted");
  expect(manual).toHaveLength(1);
  expect(manual[0]).toMatchObject({
    authorEmail: ANNOTATOR.email,
    stage: "assisted_manual",
    status: "accepted",
  });
  if (accepted) expect(byId.get(accepted.id)?.status).toBe("accepted");
  if (fixed) {
    expect(byId.get(fixed.id)).toMatchObject({ status: "accepted", version: fixed.version + 2 });
    expect(byId.get(fixed.id)!.area).toBeLessThan(fixed.area);
  }
  expect(after.filter((m) => m.source === "semi_auto")).toHaveLength(prefilled.length);

  // After a reload the screen agrees with the database.
  await page.reload();
  await expect(page.locator('[data-testid="mask-item"][data-source="semi_auto"]')).toHaveCount(
    prefilled.length - 1,
  );
  await expect(page.locator('[data-testid="mask-item"][data-source="manual"]')).toHaveCount(1);
});

test("an admin cancels a running fully automatic pass", async ({ page }) => {
  test.skip(!imageId, "needs the project of the first test");
  await signIn(page, ADMIN);
  await page.getByTestId("nav-passes").click();
  await expect(page).toHaveURL(/\/admin\/passes$/);
  await page.getByTestId("pass-project").selectOption({ label: `${projectName} (1 of 1 ready)` });
  await page.getByTestId("pass-stage-fully_automatic").check();
  // The fully automatic defaults: a 32x32 grid and one crop layer (minutes on a CPU), the thresholds
  // calibrated for the bundled model.
  await page.getByTestId("pass-advanced").locator("summary").click();
  await expect(page.getByTestId("param-predIouThresh")).toHaveValue("0.88");
  await expect(page.getByTestId("param-stabilityScoreThresh")).toHaveValue("0.85");
  await expect(page.getByTestId("param-cropNLayers")).toHaveValue("1");
  await page.getByTestId("pass-start").click();

  const row = page.getByTestId("pass-row").filter({ hasText: "fully automatic" }).first();
  await expect(row).toHaveAttribute("data-status", /queued|running/);
  await expect(row.getByTestId("pass-eta")).toBeVisible();
  if (shots) await page.screenshot({ path: `${shots}/passes-running.png`, fullPage: true });
  await row.getByTestId("pass-cancel").click();
  await expect(row).toHaveAttribute("data-status", "cancelled", { timeout: 30_000 });
  await expect(row.getByTestId("pass-cancel")).toHaveCount(0);
  const passId = await row.getAttribute("data-pass-id");
  const [job] = await query<{ status: string }>(`SELECT status::text AS status FROM "Job" WHERE id = $1`, [
    passId,
  ]);
  expect(job?.status).toBe("cancelled");
  // The semi-automatic pass's masks and the annotator's work are untouched.
  const masks = await masksOf(imageId);
  expect(masks.filter((m) => m.source === "manual" && m.status !== "deleted")).toHaveLength(1);
  expect(masks.filter((m) => m.source === "semi_auto").length).toBeGreaterThan(1);
});
