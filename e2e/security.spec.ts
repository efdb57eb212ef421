import { expect, test } from "@playwright/test";
import { ANNOTATOR, assignDemoImage, clickImage, signIn, waitForDecoder } from "./support";

test("every page carries the CSP and frame-ancestors 'none'", async ({ request }) => {
  for (const path of ["/sign-in", "/api/trpc/health.check"]) {
    const response = await request.get(path);
    const csp = response.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("frame-ancestors 'none'");
    expect(csp, path).toContain("'wasm-unsafe-eval'");
    expect(csp, path).toContain("object-src 'none'");
    expect(csp, path).not.toContain("'unsafe-eval'");
  }
});

test("the annotation page still decodes under the CSP, with no violation reported", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await signIn(page, ANNOTATOR);
  const imageId = await assignDemoImage("dogs.jpg", ANNOTATOR.email);
  await page.goto(`/annotate/${imageId}`);
  await waitForDecoder(page);
  await clickImage(page, 510, 350);
  await expect(page.getByTestId("choice-1")).toBeVisible();
  expect(violations).toEqual([]);
});

test("a mutation from another origin is refused; the same from this site is not", async ({
  page,
  baseURL,
}) => {
  await signIn(page, ANNOTATOR);
  const call = (origin: string) =>
    page.request.post("/api/trpc/annotate.deleteMask", {
      headers: { origin, "content-type": "application/json" },
      data: { json: { id: "00000000-0000-4000-8000-000000000000", version: 1 } },
    });
  expect((await call("https://evil.example")).status()).toBe(403);
  // Past the origin check, the made-up mask is simply not found.
  expect((await call(baseURL ?? "")).status()).toBe(404);
});
