import { expect, test } from "@playwright/test";
import {
  ADMIN,
  ANNOTATOR,
  assignDemoImage,
  clickImage,
  openAnnotation,
  query,
  screen,
  signIn,
} from "./support";

test("a saved mask appears live for another viewer, who reviews and corrects it", async ({ browser }) => {
  const imageId = await assignDemoImage("dogs.jpg", ANNOTATOR.email);
  const annotatorContext = await browser.newContext();
  const reviewerContext = await browser.newContext();
  try {
    const annotator = await annotatorContext.newPage();
    const reviewer = await reviewerContext.newPage();
    await signIn(annotator, ANNOTATOR);
    await signIn(reviewer, ADMIN);
    await openAnnotation(annotator, imageId);
    await openAnnotation(reviewer, imageId);
    await expect(reviewer.getByTestId("live-state")).toHaveText("● live");
    const before = Number(await reviewer.getByTestId("mask-count").textContent());

    // The annotator makes a mask; the reviewer's list grows without a reload.
    await clickImage(annotator, 510, 350);
    await clickImage(annotator, 660, 410, "right");
    await annotator.getByTestId("accept").click();
    await expect(annotator.getByTestId("save-status")).toHaveText("All changes saved");
    await expect(reviewer.getByTestId("mask-count")).toHaveText(String(before + 1));
    const item = reviewer.getByTestId("mask-item").last();
    const maskId = await item.getAttribute("data-mask-id");

    // The reviewer corrects it: erase a band across the dog, save the correction.
    await item.getByTestId("correct").click();
    await expect(reviewer.getByTestId("accept")).toHaveText(/Save correction/);
    await reviewer.keyboard.press("e");
    const a = await screen(reviewer, 450, 300);
    const b = await screen(reviewer, 620, 300);
    await reviewer.mouse.move(a.x, a.y);
    await reviewer.mouse.down();
    await reviewer.mouse.move(b.x, b.y, { steps: 6 });
    await reviewer.mouse.up();
    await reviewer.getByTestId("accept").click();
    await expect(reviewer.getByTestId("save-status")).toHaveText("All changes saved");

    const [review] = await query<{ decision: string; iou: number; original: boolean }>(
      `SELECT decision::text AS decision, iou, "originalRle" IS NOT NULL AS original
         FROM "MaskReview" WHERE "maskId" = $1`,
      [maskId],
    );
    expect(review).toMatchObject({ decision: "corrected", original: true });
    expect(review!.iou).toBeGreaterThan(0.5);
    expect(review!.iou).toBeLessThan(0.99);

    // The annotator sees the decision live too.
    await expect(annotator.locator(`[data-mask-id="${maskId}"]`).getByTestId("review-decision")).toHaveText(
      /corrected/,
    );
  } finally {
    await annotatorContext.close();
    await reviewerContext.close();
  }
});
