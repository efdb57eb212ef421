import { expect, test } from "@playwright/test";

test("the app loads and reports a live database and Redis", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Segment Anything Studio" })).toBeVisible();
  await expect(page.getByTestId("status-database")).toHaveAttribute("data-state", "ok");
  await expect(page.getByTestId("status-redis")).toHaveAttribute("data-state", "ok");
  await expect(page.getByTestId("status-database")).toContainText(/ok · [\d.]+ ms/);
});

test("pages are cross-origin isolated, so the in-browser decoder can use WASM threads", async ({ page }) => {
  await page.goto("/");
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
});

test("the tRPC health procedure answers over HTTP", async ({ request }) => {
  const response = await request.get("/api/trpc/health.check");
  expect(response.ok()).toBe(true);
  const body = (await response.json()) as { result: { data: { json: { ok: boolean } } } };
  expect(body.result.data.json.ok).toBe(true);
});
