// The statistics dashboard end to end: a project manager opens it on seeded masks, timings and reviews;
// each chart's numbers are the ones worked out by hand below; filters change them; the per-mask CSV
// downloads with the filtered rows. Someone who is not a manager is told why they see nothing.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import { hashPassword } from "better-auth/crypto";
import { Queue } from "bullmq";
import { ADMIN, query, signIn } from "./support";

const run = Date.now().toString(36);
const PASSWORD = "e2e-stats-password-long";
const MANAGER = { email: `stats-manager-${run}@sam-studio.local`, password: PASSWORD };
const ANN = { email: `stats-ann-${run}@sam-studio.local`, password: PASSWORD };
const BEN = { email: `stats-ben-${run}@sam-studio.local`, password: PASSWORD };

async function createUser(who: { email: string }, name: string, role: string): Promise<string> {
  const id = randomUUID();
  await query(
    `INSERT INTO "User" (id, email, name, role, "emailVerified", "updatedAt") VALUES ($1, $2, $3, $4, true, now())`,
    [id, who.email, name, role],
  );
  await query(
    `INSERT INTO "Account" (id, "userId", "accountId", "providerId", password, "updatedAt")
     VALUES ($1, $2, $3, 'credential', $4, now())`,
    [randomUUID(), id, id, await hashPassword(PASSWORD)],
  );
  return id;
}

interface SeedMask {
  image: 0 | 1;
  author: string | null;
  source: "manual" | "semi_auto" | "auto";
  stage: "assisted_manual" | "semi_automatic" | "fully_automatic";
  at: string;
  seconds?: number;
  status?: "accepted" | "rejected";
  review?: { decision: "approved" | "corrected" | "rejected"; iou?: number };
}

/**
 * Timed masks: 10, 20, 30 s (Ann, week of 5 Jan), 40 s (Ben, rejected, same week), 8 and 12 s (Ben,
 * semi-automatic, week of 12 Jan); one automatic mask. Sorted times 8 10 12 20 30 40: median 16 s, p90 at
 * position 4.5 = 30 + 0.5 * 10 = 35 s. Semi-automatic only: median 10 s, p90 8 + 0.9 * 4 = 11.6 s.
 */
async function seed(): Promise<{ projectId: string; annId: string }> {
  const managerId = await createUser(MANAGER, `Stats manager ${run}`, "annotator");
  const annId = await createUser(ANN, `Ann ${run}`, "annotator");
  const benId = await createUser(BEN, `Ben ${run}`, "annotator");
  const projectId = randomUUID();
  await query(`INSERT INTO "Project" (id, name, "updatedAt") VALUES ($1, $2, now())`, [
    projectId,
    `Stats ${run}`,
  ]);
  for (const [userId, role] of [
    [managerId, "manager"],
    [annId, "annotator"],
    [benId, "annotator"],
  ] as const) {
    await query(`INSERT INTO "ProjectMember" ("projectId", "userId", role) VALUES ($1, $2, $3)`, [
      projectId,
      userId,
      role,
    ]);
  }
  const images: string[] = [];
  for (const n of [0, 1]) {
    const id = randomUUID();
    images.push(id);
    await query(
      `INSERT INTO "Image" (id, "projectId", filename, "mimeType", width, height, "sizeBytes", sha256, "storageKey",
                            status, "updatedAt")
       VALUES ($1, $2, $3, 'image/jpeg', 1000, 500, 1, $4, $5, 'ready', now())`,
      [id, projectId, `stats-${n}.jpg`, `${run}${n}`.padStart(64, "0"), `images/stats-e2e/${run}-${n}`],
    );
  }
  const masks: SeedMask[] = [
    {
      image: 0,
      author: annId,
      source: "manual",
      stage: "assisted_manual",
      at: "2026-01-05T09:00:00Z",
      seconds: 10,
      review: { decision: "approved" },
    },
    {
      image: 0,
      author: annId,
      source: "manual",
      stage: "assisted_manual",
      at: "2026-01-06T09:00:00Z",
      seconds: 20,
      review: { decision: "corrected", iou: 0.96 },
    },
    {
      image: 0,
      author: annId,
      source: "manual",
      stage: "assisted_manual",
      at: "2026-01-07T09:00:00Z",
      seconds: 30,
    },
    {
      image: 1,
      author: benId,
      source: "manual",
      stage: "assisted_manual",
      at: "2026-01-08T09:00:00Z",
      seconds: 40,
      status: "rejected",
      review: { decision: "rejected" },
    },
    {
      image: 1,
      author: benId,
      source: "semi_auto",
      stage: "semi_automatic",
      at: "2026-01-13T09:00:00Z",
      seconds: 8,
    },
    {
      image: 1,
      author: benId,
      source: "semi_auto",
      stage: "semi_automatic",
      at: "2026-01-14T09:00:00Z",
      seconds: 12,
    },
    {
      image: 0,
      author: null,
      source: "auto",
      stage: "fully_automatic",
      at: "2026-01-15T09:00:00Z",
      review: { decision: "corrected", iou: 0.5 },
    },
  ];
  for (const [k, m] of masks.entries()) {
    const id = randomUUID();
    await query(
      `INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "cropBox", source, stage, "authorId", status,
                           "reviewDecision", "createdAt", "updatedAt")
       VALUES ($1, $2, '{"size": [500, 1000], "counts": "0"}', $3, $4, '{}', $5, $6, $7, $8, $9, $10, now())`,
      [
        id,
        images[m.image],
        [100 * k, 50, 100, 50],
        5000,
        m.source,
        m.stage,
        m.author,
        m.status ?? "accepted",
        m.review?.decision ?? null,
        m.at,
      ],
    );
    if (m.seconds && m.author) {
      await query(
        `INSERT INTO "MaskTiming" (id, "maskId", "annotatorId", "startedAt", "finishedAt", "activeMs", clicks)
         VALUES ($1, $2, $3, $4, $4, $5, 2)`,
        [randomUUID(), id, m.author, m.at, m.seconds * 1000],
      );
    }
    if (m.review) {
      await query(`INSERT INTO "MaskReview" (id, "maskId", decision, iou) VALUES ($1, $2, $3, $4)`, [
        randomUUID(),
        id,
        m.review.decision,
        m.review.iou ?? null,
      ]);
    }
  }
  return { projectId, annId };
}

const caption = (page: Page, chart: string) => page.getByTestId(`${chart}-caption`);
/** A drawn recharts chart (its legend icons are small SVGs of the same class, without the role). */
const CHART = 'svg.recharts-surface[role="application"]';
const filterBar = (page: Page) => page.getByRole("form", { name: "Filters" });

let seeded: { projectId: string; annId: string };
test.beforeAll(async () => {
  seeded = await seed();
});

test("a manager reads the dashboard's numbers, filters them and downloads the per-mask CSV", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signIn(page, MANAGER);
  await page.goto(`/projects/${seeded.projectId}`);
  await page.getByTestId("project-stats-link").click();
  await expect(page.getByRole("heading", { name: "Statistics" })).toBeVisible();

  // Every chart is drawn (an SVG inside its card) and states its numbers.
  for (const chart of [
    "chart-timing-weekly",
    "chart-timing-annotator",
    "chart-timing-stage",
    "chart-interactions",
    "chart-throughput-annotator",
    "chart-images-per-day",
    "chart-masks-per-image-weekly",
    "chart-review-outcomes",
    "chart-review-iou",
    "chart-dataset-masks-per-image",
    "chart-dataset-size",
    "chart-dataset-centres",
    "chart-dataset-split",
  ]) {
    await expect(page.getByTestId(chart).locator(CHART)).toBeVisible();
  }
  await expect(caption(page, "chart-timing-weekly")).toHaveText(
    "6 timed masks in 2 weeks · median 16.0 s · p90 35.0 s",
  );
  await expect(caption(page, "chart-timing-annotator")).toHaveText(
    `Ann ${run}: 3 masks, median 20.0 s · Ben ${run}: 3 masks, median 12.0 s`,
  );
  await expect(caption(page, "chart-timing-stage")).toHaveText(
    "assisted-manual: 4 masks, median 25.0 s · semi-automatic: 2 masks, median 10.0 s",
  );
  // 6 masks in 120 s of active time: 180 per hour.
  await expect(caption(page, "chart-throughput-annotator")).toHaveText(
    "6 masks in 0.03 active hours · 180.0 masks per hour",
  );
  await expect(caption(page, "chart-review-outcomes")).toHaveText(
    "4 of 7 masks reviewed · approved 25% · corrected 50% · rejected 25%",
  );
  await expect(caption(page, "chart-review-iou")).toHaveText(
    "2 corrections · 50% above 0.9 · mean 0.73 · auto: 0% above 0.9 · manual: 100% above 0.9",
  );
  // Dataset masks leave out the rejected one: image 0 has 4, image 1 has 2.
  await expect(caption(page, "chart-dataset-masks-per-image")).toHaveText(
    "6 masks on 2 images · mean 3.0 · median 3.0",
  );
  await expect(caption(page, "chart-dataset-split")).toHaveText(
    "assisted-manual / manual: 3 (50%) · semi-automatic / semi-auto: 2 (33%) · fully automatic / auto: 1 (17%)",
  );
  await expect(caption(page, "chart-dataset-centres")).toHaveText("6 mask centres on a 10×10 grid");

  // A stage filter narrows every view.
  await filterBar(page).getByLabel("Stage").selectOption("semi_automatic");
  await expect(caption(page, "chart-timing-weekly")).toHaveText(
    "2 timed masks in 1 weeks · median 10.0 s · p90 11.6 s",
  );
  await expect(caption(page, "chart-dataset-masks-per-image")).toHaveText(
    "2 masks on 1 images · mean 2.0 · median 2.0",
  );
  await expect(page).toHaveURL(/stage=semi_automatic/);

  // The CSV behind the timing charts holds the two filtered masks.
  const downloading = page.waitForEvent("download");
  await page.getByTestId("chart-timing-weekly-csv").click();
  const download = await downloading;
  const lines = (await readFile((await download.path())!, "utf8")).trim().split("\r\n");
  expect(lines[0]).toMatch(/^maskId,imageId,filename,createdAt,stage,source,status/);
  expect(lines).toHaveLength(3);
  expect(lines.slice(1).every((l) => l.includes(",semi_automatic,semi_auto,"))).toBe(true);
  expect(
    lines
      .slice(1)
      .map((l) => l.split(",")[9])
      .sort(),
  ).toEqual(["12", "8"]);

  // A date range instead: from 12 January, only the second week's masks remain.
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(caption(page, "chart-timing-weekly")).toHaveText(/^6 timed masks/);
  await filterBar(page).getByLabel("From").fill("2026-01-12");
  await expect(caption(page, "chart-timing-weekly")).toHaveText(
    "2 timed masks in 1 weeks · median 10.0 s · p90 11.6 s",
  );
  await expect(caption(page, "chart-review-outcomes")).toHaveText(
    "1 of 3 masks reviewed · approved 0% · corrected 100% · rejected 0%",
  );
});

test("a manager compares one annotator with the project median", async ({ page }) => {
  await signIn(page, MANAGER);
  await page.goto(`/projects/${seeded.projectId}/stats`);
  await page.getByRole("link", { name: `Ann ${run}` }).click();
  await expect(page.getByTestId("annotator-name")).toHaveText(`Ann ${run}`);
  // Ann: 10 20 30 s, median 20 s; the project's median 16 s. 3 masks in 60 s = 180/h; Ben 3 in 60 s too.
  await expect(page.getByTestId("annotator-seconds")).toContainText("20.0 s");
  await expect(page.getByTestId("annotator-seconds")).toContainText("(3 masks) · project 16.0 s");
  await expect(page.getByTestId("annotator-rate")).toContainText("180.0");
  await expect(page.getByTestId("annotator-review")).toContainText("50% approved");
  await expect(page.getByTestId("chart-annotator-weekly").locator(CHART)).toBeVisible();
  await expect(caption(page, "chart-annotator-weekly")).toHaveText("2 weeks · 3 of 6 timed masks");
});

test("an annotator is told that statistics are for managers, and cannot download the CSV", async ({
  page,
}) => {
  await signIn(page, ANN);
  await page.goto(`/projects/${seeded.projectId}/stats`);
  await expect(page.getByTestId("stats-error")).toHaveText(
    "Only the project's managers and admins can see its statistics.",
  );
  const response = await page.request.get(`/api/projects/${seeded.projectId}/stats/timing`);
  expect(response.status()).toBe(403);
});

test("the queue dashboard: admins see jobs per queue and state and remove a job; others are told it is for admins", async ({
  page,
}) => {
  await signIn(page, ANN);
  await page.goto("/admin/queues");
  await expect(page.getByTestId("account-bar")).toBeVisible();
  await expect(page.getByTestId("queues-admins-only")).toHaveText(
    "The queue dashboard is for admins only. Ask an admin if background work looks stuck.",
  );

  // A job nobody will run for an hour, in the export queue.
  const exports = new Queue("export", {
    connection: { url: process.env.E2E_REDIS_URL ?? "redis://127.0.0.1:6379/13" },
  });
  const jobId = `stats-e2e-${run}`;
  await exports.add("stats-e2e", { note: "remove me" }, { jobId, delay: 3_600_000 });
  try {
    await page.context().clearCookies();
    await signIn(page, ADMIN);
    await page.goto("/admin/queues");
    await expect(page.getByTestId("account-bar")).toBeVisible();
    await expect(page.getByTestId("queue-chart").locator(CHART)).toBeVisible();
    const card = page.getByTestId("queue-export");
    await expect(card.getByTestId("count-export-delayed")).toContainText(/delayed [1-9]/);
    await card.getByTestId("count-export-delayed").getByRole("button").click();
    const row = card.getByTestId("job-row").filter({ hasText: `#${jobId}` });
    await expect(row).toContainText('{"note":"remove me"}');
    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Remove" }).click();
    await expect(row).toHaveCount(0);
    await expect.poll(async () => (await exports.getJob(jobId)) ?? null).toBeNull();
  } finally {
    await exports.close();
  }
});
