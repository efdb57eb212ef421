import { expect, type Page, test } from "@playwright/test";
import sharp from "sharp";
import {
  ANNOTATOR,
  assignDemoImage,
  clickImage as click,
  decodes,
  query,
  screen,
  signIn,
  waitForDecoder,
} from "./support";

const signInAsAnnotator = (page: Page) => signIn(page, ANNOTATOR);

/** Assigns a Demo image to the annotator, opens it from the project page and waits for the decoder. */
async function openImage(page: Page, filename: string): Promise<string> {
  const imageId = await assignDemoImage(filename, ANNOTATOR.email);
  await page.getByTestId("project").filter({ hasText: "Demo" }).getByRole("link", { name: "Demo" }).click();
  await page.getByTestId("annotate-link").filter({ hasText: filename }).click();
  await expect(page).toHaveURL(new RegExp(`/annotate/${imageId}$`));
  await waitForDecoder(page);
  return imageId;
}

interface StoredMask {
  area: number;
  bbox: number[];
  label: string;
  source: string;
  activeMs: number;
  clicks: number;
  boxes: number;
  brushStrokes: number;
  undos: number;
  startedAt: Date;
  finishedAt: Date;
}

const storedMasks = (imageId: string) =>
  query<StoredMask>(
    `SELECT m.area, m.bbox, m.label, m.source::text AS source, t."activeMs", t.clicks, t.boxes,
            t."brushStrokes", t.undos, t."startedAt", t."finishedAt"
       FROM "Mask" m JOIN "MaskTiming" t ON t."maskId" = m.id
      WHERE m."imageId" = $1 AND m.status <> 'deleted'
      ORDER BY m."createdAt"`,
    [imageId],
  );

test.describe.configure({ mode: "serial" });

test("an annotator clicks a dog, accepts, and the mask is stored with its timing", async ({ page }) => {
  await signInAsAnnotator(page);
  const imageId = await openImage(page, "dogs.jpg");
  const before = (await storedMasks(imageId)).length;

  // The golden dog, and a background click on the black dog next to it.
  await click(page, 510, 350);
  await expect(page.getByTestId("choice-1")).toBeVisible();
  await click(page, 660, 410, "right");
  await expect(page.getByTestId("draft-summary")).toContainText("2 points");
  await page.getByTestId("draft-label").fill("dog");
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  // The list is oldest first (earlier runs may have left masks on this image).
  await expect(page.getByTestId("mask-count")).toHaveText(String(before + 1));
  await expect(page.getByTestId("mask-item").last().getByRole("textbox", { name: "Label" })).toHaveValue(
    "dog",
  );

  // Cut-out: the selected mask as a transparent PNG cropped to the dog.
  await page.getByTestId("mask-item").last().getByRole("button", { name: "Select" }).click();
  const download = page.waitForEvent("download");
  await page.keyboard.press("c");
  const png = await sharp(await (await download).path()).metadata();
  expect(png.format).toBe("png");
  expect(png.hasAlpha).toBe(true);
  expect(png.width).toBeGreaterThan(100);
  expect(png.width).toBeLessThan(200);

  const masks = await storedMasks(imageId);
  expect(masks).toHaveLength(before + 1);
  const m = masks.at(-1)!;
  expect(m.label).toBe("dog");
  expect(m.source).toBe("manual");
  // The reference golden dog covers 34,109 px in x 455-593, y 191-577.
  expect(m.area).toBeGreaterThan(25_000);
  expect(m.area).toBeLessThan(45_000);
  const [x, y, w, h] = m.bbox.map(Number) as [number, number, number, number];
  expect(x).toBeGreaterThan(430);
  expect(y).toBeGreaterThan(170);
  expect(x + w).toBeLessThan(620);
  expect(y + h).toBeLessThan(600);
  expect(m.clicks).toBe(2);
  expect(m.activeMs).toBeGreaterThan(0);
  expect(m.activeMs).toBeLessThanOrEqual(new Date(m.finishedAt).getTime() - new Date(m.startedAt).getTime());
});

test("a box around the truck gives the truck", async ({ page }) => {
  await signInAsAnnotator(page);
  const imageId = await openImage(page, "truck.jpg");
  const before = (await storedMasks(imageId)).length;
  const a = await screen(page, 75, 275);
  const b = await screen(page, 1715, 855);
  const n = await decodes(page);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
  await expect.poll(() => decodes(page)).toBe(n + 1);
  await expect(page.getByTestId("draft-summary")).toContainText("0 points + box");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  const masks = await storedMasks(imageId);
  expect(masks).toHaveLength(before + 1);
  const m = masks.at(-1)!;
  expect(m.boxes).toBe(1);
  // The reference truck: 621,377 px inside x 130-1707, y 282-843.
  expect(m.area).toBeGreaterThan(500_000);
  expect(m.area).toBeLessThan(750_000);
  const [x, y, w, h] = m.bbox.map(Number) as [number, number, number, number];
  expect(x).toBeGreaterThanOrEqual(75);
  expect(y).toBeGreaterThanOrEqual(275);
  expect(x + w).toBeLessThanOrEqual(1715);
  expect(y + h).toBeLessThanOrEqual(855);
});

test("a click where the cursor rested is answered by the look-ahead, with the mask a cold click gives", async ({
  page,
}) => {
  await signInAsAnnotator(page);
  const imageId = await openImage(page, "dogs.jpg");
  const counts = () => page.evaluate(() => ({ ...(window.__sasDecoderCounts ?? { sent: 0, done: 0 }) }));
  const lastSample = () => page.evaluate(() => window.__sasDecodePerf?.at(-1));

  await click(page, 510, 350);
  const before = await counts();
  const p = await screen(page, 540, 460);
  await page.mouse.move(p.x, p.y);
  // resting there (on the dog): the click is decoded ahead as a background click, then as a foreground
  // one, and neither is shown
  await expect.poll(counts).toEqual({ sent: before.sent + 2, done: before.sent + 2 });
  await expect(page.getByTestId("draft-summary")).toContainText("1 point");
  const shown = await decodes(page);
  await page.mouse.down();
  await page.mouse.up();
  await expect.poll(() => decodes(page)).toBe(shown + 1);
  expect((await lastSample())?.atPress).toBe("answered");
  expect((await counts()).sent).toBe(before.sent + 2);
  await expect(page.getByTestId("draft-summary")).toContainText("2 points");
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  const [ahead] = await query<{ rle: unknown }>(
    `SELECT rle FROM "Mask" WHERE "imageId" = $1 AND status <> 'deleted' ORDER BY "createdAt" DESC LIMIT 1`,
    [imageId],
  );

  // The same two clicks with the look-ahead and hover off: the same mask.
  await page.goto(`/annotate/${imageId}?lookahead=0`);
  await waitForDecoder(page);
  await page.keyboard.press("h");
  await click(page, 510, 350);
  const q = await screen(page, 540, 460);
  await page.mouse.move(q.x, q.y);
  await page.waitForTimeout(300);
  expect((await counts()).sent).toBe(1);
  await click(page, 540, 460);
  expect((await lastSample())?.atPress).toBe("none");
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  const [cold] = await query<{ rle: unknown }>(
    `SELECT rle FROM "Mask" WHERE "imageId" = $1 AND status <> 'deleted' ORDER BY "createdAt" DESC LIMIT 1`,
    [imageId],
  );
  expect(cold!.rle).toEqual(ahead!.rle);
});

test("brush strokes are undone and redone; a half-made mask survives a reload", async ({ page }) => {
  await signInAsAnnotator(page);
  const imageId = await openImage(page, "dogs.jpg");
  const before = (await storedMasks(imageId)).length;

  await click(page, 660, 410);
  await page.keyboard.press("b");
  const a = await screen(page, 100, 100);
  const b = await screen(page, 200, 120);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId("draft-summary")).toContainText("1 point + 1 stroke");
  await page.getByTestId("undo").click();
  await expect(page.getByTestId("draft-summary")).not.toContainText("stroke");
  await page.getByTestId("redo").click();
  await expect(page.getByTestId("draft-summary")).toContainText("1 point + 1 stroke");

  // Reload in the middle: the prompt, the stroke and the label come back.
  await page.getByTestId("draft-label").fill("black dog");
  await page.reload();
  await expect(page.getByTestId("annotate-message")).toContainText("Restored");
  await expect(page.getByTestId("draft-summary")).toContainText("1 point + 1 stroke");
  await expect(page.getByTestId("draft-label")).toHaveValue("black dog");
  await expect(page.getByTestId("annotate-workspace")).toHaveAttribute("data-embedding-ready", "yes");

  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved");
  const masks = await storedMasks(imageId);
  expect(masks).toHaveLength(before + 1);
  const m = masks.at(-1)!;
  expect(m.label).toBe("black dog");
  expect(m.brushStrokes).toBe(1);
  expect(m.undos).toBe(1);
  // The stroke painted pixels far from the black dog, so the box reaches the top-left corner area.
  expect(Number(m.bbox[0])).toBeLessThan(110);
});

test("a save that fails is retried and lands, with the failure shown meanwhile", async ({ page }) => {
  await signInAsAnnotator(page);
  const imageId = await openImage(page, "dogs.jpg");
  const before = (await storedMasks(imageId)).length;

  let failures = 0;
  await page.route("**/api/trpc/annotate.saveMask**", async (route) => {
    if (failures < 2) {
      failures++;
      await route.abort("connectionreset");
    } else await route.continue();
  });
  await click(page, 510, 350);
  await page.getByTestId("accept").click();
  await expect(page.getByTestId("save-status")).toContainText("retrying");
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved", { timeout: 30_000 });
  expect(failures).toBe(2);
  await expect.poll(async () => (await storedMasks(imageId)).length).toBe(before + 1);
});

test("next image moves to another leased image with its embedding already fetched", async ({ page }) => {
  await signInAsAnnotator(page);
  const first = await openImage(page, "dogs.jpg");
  await page.getByTestId("next-image").click();
  await expect(page).not.toHaveURL(new RegExp(first));
  await expect(page).toHaveURL(/\/annotate\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("annotate-workspace")).toHaveAttribute("data-embedding-ready", "yes");
  const second = page.url().split("/").at(-1)!;
  const leases = await query<{ status: string }>(
    `SELECT a.status::text AS status FROM "Assignment" a JOIN "User" u ON u.id = a."userId"
      WHERE u.email = 'annotator@sam-studio.local' AND a."imageId" = $1 ORDER BY a."leasedAt" DESC LIMIT 1`,
    [second],
  );
  expect(leases[0]?.status).toBe("active");
  // Moving on hands nothing in (submitting is explicit): the first image is still the annotator's, and
  // still open in the workflow (new or in progress, never submitted or done).
  const kept = await query<{ status: string; state: string }>(
    `SELECT a.status::text AS status, i."workflowState"::text AS state
       FROM "Assignment" a JOIN "User" u ON u.id = a."userId" JOIN "Image" i ON i.id = a."imageId"
      WHERE u.email = 'annotator@sam-studio.local' AND a."imageId" = $1 ORDER BY a."leasedAt" DESC LIMIT 1`,
    [first],
  );
  expect(kept[0]?.status).toBe("active");
  expect(["new", "in_progress"]).toContain(kept[0]?.state);
});
