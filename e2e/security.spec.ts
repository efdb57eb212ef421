import { type ConsoleMessage, expect, type Page, test } from "@playwright/test";
import { ADMIN, ANNOTATOR, assignDemoImage, clickImage, query, signIn, waitForDecoder } from "./support";

/** The sources of one directive of a CSP header ([] when the directive is absent). */
function sources(csp: string, directive: string): string[] {
  const found = csp
    .split(";")
    .map((part) => part.trim().split(/\s+/))
    .find(([name]) => name === directive);
  return found ? found.slice(1) : [];
}

/** Collects what the browser reports as blocked by the CSP, in the page and in its workers. */
function watchCspViolations(page: Page): string[] {
  const violations: string[] = [];
  const record = (message: ConsoleMessage) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  };
  page.on("console", record);
  // The decoder worker and ORT's thread workers have their own policy and report to their own console.
  page.on("worker", (worker) => worker.on("console", record));
  page.on("pageerror", (error) => {
    if (/Content Security Policy/i.test(error.message)) violations.push(error.message);
  });
  return violations;
}

test("every page carries the CSP and frame-ancestors 'none'", async ({ request }) => {
  const html = await (await request.get("/sign-in")).text();
  const chunk = html.match(/src="(\/_next\/static\/[^"]+\.js)"/)?.[1];
  expect(chunk, "a script chunk on /sign-in").toBeTruthy();
  for (const path of ["/sign-in", "/", "/api/trpc/health.check", chunk ?? ""]) {
    const response = await request.get(path);
    const csp = response.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("frame-ancestors 'none'");
    expect(csp, path).toContain("'wasm-unsafe-eval'");
    expect(csp, path).toContain("object-src 'none'");
    expect(csp, path).not.toContain("'unsafe-eval'");
    // Scripts never run inline without the nonce, and workers come from this origin only.
    expect(sources(csp, "script-src"), path).not.toContain("'unsafe-inline'");
    expect(sources(csp, "worker-src"), path).toEqual(["'self'"]);
  }
});

test("a page's scripts carry a fresh nonce that its script-src allows, and nothing else inline", async ({
  request,
}) => {
  const nonces: string[] = [];
  for (let i = 0; i < 2; i++) {
    const response = await request.get("/sign-in");
    const csp = response.headers()["content-security-policy"] ?? "";
    const script = sources(csp, "script-src");
    const nonce = script.map((source) => source.match(/^'nonce-(.+)'$/)?.[1]).find(Boolean);
    expect(nonce, csp).toBeTruthy();
    expect(script).toContain("'strict-dynamic'");
    const html = await response.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    nonces.push(nonce ?? "");
  }
  expect(nonces[0]).not.toBe(nonces[1]);
});

test("sign-in and the project page run under the CSP with no violation reported", async ({ page }) => {
  const violations = watchCspViolations(page);
  // Signing in needs the hydrated form (its submit is handled by React).
  await signIn(page, ADMIN);
  const [project] = await query<{ id: string }>(`SELECT id FROM "Project" WHERE name = 'Demo'`);
  await page.goto(`/projects/${project?.id}`);
  // The counts come from a tRPC query the client makes once hydrated.
  await expect(page.getByTestId("image-counts")).toBeVisible();
  expect(violations).toEqual([]);
});

test("the annotation page still decodes under the CSP, with no violation reported", async ({ page }) => {
  const violations = watchCspViolations(page);
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
