// Opening the annotation screen as an annotator would: a progress bar saying what loads and how many MB,
// then a usable page; a second visit reads the decoder graphs from the browser's cache; the next image
// opens without a blank page; the help dialog, the tool buttons, the predicted IoU and the live indicator.
import { expect, type Page, test } from "@playwright/test";
import { ANNOTATOR, assignDemoImage, clickImage, signIn, waitForDecoder } from "./support";

const openMarks = (page: Page) => page.evaluate(() => (window.__sasOpenTimeline ?? []).map((m) => m.step));

test("the page shows what it loads in MB, becomes usable, and reads the decoder from the cache next time", async ({
  page,
}) => {
  await signIn(page, ANNOTATOR);
  const imageId = await assignDemoImage("dogs.jpg", ANNOTATOR.email);
  await page.goto(`/annotate/${imageId}`);
  const progress = page.getByTestId("loading-progress");
  await expect(progress).toBeVisible();
  await expect(progress.getByTestId("loading-mb")).toHaveText(/^\d+\.\d MB of \d+\.\d MB$/);
  await expect(progress).toContainText(/decoder|runtime|embedding/);
  await waitForDecoder(page);
  await expect(progress).toHaveCount(0);
  // usable: a click shows a mask
  await clickImage(page, 510, 350);
  await expect(page.getByTestId("draft-summary")).toContainText("1 point");
  // annotators are not shown which runtime decodes
  await expect(page.getByTestId("decoder-state")).toHaveCount(0);
  expect(await openMarks(page)).toEqual(
    expect.arrayContaining(["click graph downloaded", "decoder ready", "embedding ready"]),
  );

  // A reload reads the graphs from Cache Storage (keyed by their content-named URLs).
  await page.reload();
  await waitForDecoder(page);
  expect(await openMarks(page)).toEqual(
    expect.arrayContaining(["prepare graph read from cache", "click graph read from cache"]),
  );
  const cachedGraphs = () =>
    page.evaluate(async () =>
      (await (await caches.open("sas-decoder-graphs")).keys()).map((r) => new URL(r.url).pathname),
    );
  // three graphs (the refinement one follows once the decoder is ready), each named with a sha256
  await expect.poll(async () => (await cachedGraphs()).length).toBe(3);
  const cached = await cachedGraphs();
  for (const path of cached) expect(path).toMatch(/\/decoder\/decoder-browser-\w+-[0-9a-f]{64}\.onnx$/);
});

test("the next image opens without a blank page", async ({ page }) => {
  await signIn(page, ANNOTATOR);
  await assignDemoImage("dog.jpg", ANNOTATOR.email);
  const first = await assignDemoImage("groceries.jpg", ANNOTATOR.email);
  await page.goto(`/annotate/${first}`);
  await waitForDecoder(page);
  // Watch every DOM change from here on: the workspace frame must never leave the page.
  await page.evaluate(() => {
    const w = window as unknown as { __blank: number };
    w.__blank = 0;
    const check = () => {
      if (!document.querySelector('[data-testid="annotate-workspace"] .annotate-bar')) w.__blank++;
    };
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
  });
  await page.getByTestId("next-image").click();
  await expect(page).not.toHaveURL(new RegExp(first));
  await waitForDecoder(page);
  expect(await page.evaluate(() => (window as unknown as { __blank: number }).__blank)).toBe(0);
});

test("help closes on Esc and on a click outside; tools, IoU and the live indicator say what they mean", async ({
  page,
  context,
}) => {
  await signIn(page, ANNOTATOR);
  const imageId = await assignDemoImage("truck.jpg", ANNOTATOR.email);
  await page.goto(`/annotate/${imageId}`);
  await waitForDecoder(page);
  await clickImage(page, 500, 370);
  await expect(page.getByTestId("draft-summary")).toContainText(/predicted IoU (0\.\d\d|1\.00)$/);

  // Esc closes the help, and only the help: the mask being made stays.
  await page.keyboard.press("?");
  const help = page.getByTestId("help-overlay");
  await expect(help).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(help).toHaveCount(0);
  await expect(page.getByTestId("draft-summary")).toContainText("1 point");
  // A click outside the card closes it too; one inside does not.
  await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
  await expect(help).toBeVisible();
  await help.getByRole("heading", { name: "Keyboard shortcuts" }).click();
  await expect(help).toBeVisible();
  await help.click({ position: { x: 5, y: 5 } });
  await expect(help).toHaveCount(0);

  // The active tool is marked (pressed, and styled unlike the others), not only focused.
  await page.keyboard.press("b");
  await expect(page.getByTestId("tool-brush")).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("tool-prompt")).toHaveAttribute("aria-pressed", "false");
  const background = (id: string) =>
    page.getByTestId(id).evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(await background("tool-brush")).not.toBe(await background("tool-prompt"));

  // Offline, the live indicator is no longer the green "● live".
  const live = page.getByTestId("live-state");
  await expect(live).toHaveText("● live");
  const green = await live.evaluate((el) => getComputedStyle(el).color);
  await context.setOffline(true);
  await expect(live).toHaveText("○ offline");
  expect(await live.evaluate((el) => getComputedStyle(el).color)).not.toBe(green);
  await context.setOffline(false);
  await expect(live).toHaveText("● live", { timeout: 30_000 });
});
