// The team workflow end to end, as its people do it in the browser: a manager hands images out from the
// image table, an annotator skips one with a reason, submits an empty one only after confirming and
// submits one with a mask; the manager sees both states and reopens one; a reviewer rejects the mask with
// a reason, which its author sees live, after a reload and in "needs changes"; the fix goes back to
// review; once approved, the author's delete is refused; the audit view lists all of it.
import path from "node:path";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { ADMIN, clickImage, query, signIn, waitForDecoder } from "./support";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/images");

async function pageAs(browser: Browser, who: { email: string; password: string }): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, who);
  return page;
}

const imageState = async (projectName: string, filename: string) =>
  (
    await query<{ state: string }>(
      `SELECT i."workflowState"::text AS state FROM "Image" i JOIN "Project" p ON p.id = i."projectId"
        WHERE p.name = $1 AND i.filename = $2`,
      [projectName, filename],
    )
  )[0]?.state;

/** From the project page, opens one of its images on the annotation screen. */
async function openFromProject(page: Page, projectId: string, filename: string) {
  await page.goto(`/projects/${projectId}`);
  await page.getByTestId("annotate-link").filter({ hasText: filename }).click();
  await expect(page.getByTestId("workflow-bar")).toBeVisible();
}

test("skip, empty submit, reopen, reject with a reason, fix back to review, protected approval, audit", async ({
  browser,
}) => {
  test.setTimeout(420_000);
  const run = Date.now().toString(36);
  const project = `Workflow ${run}`;
  const manager = {
    email: `wf-manager-${run}@e2e.local`,
    password: "manager-password-1",
    name: `Mara ${run}`,
  };
  const annotator = {
    email: `wf-annot-${run}@e2e.local`,
    password: "annotator-password-1",
    name: `Ann ${run}`,
  };
  const reviewer = {
    email: `wf-review-${run}@e2e.local`,
    password: "reviewer-password-1",
    name: `Rey ${run}`,
  };

  // Admin: three people.
  const admin = await pageAs(browser, ADMIN);
  await admin.getByTestId("nav-users").click();
  for (const [who, role] of [
    [manager, "manager"],
    [annotator, "annotator"],
    [reviewer, "annotator"],
  ] as const) {
    await admin.getByTestId("create-user-email").fill(who.email);
    await admin.getByTestId("create-user-name").fill(who.name);
    await admin.getByTestId("create-user-role").selectOption(role);
    await admin.getByTestId("create-user-password").fill(who.password);
    await admin.getByTestId("create-user-submit").click();
    await expect(admin.locator(`[data-testid="user-row"][data-email="${who.email}"]`)).toBeVisible();
  }
  await admin.context().close();

  // Manager: a project with three images, an annotator and a reviewer; all three images handed to the
  // annotator from the image table (bulk assign).
  const mgr = await pageAs(browser, manager);
  await mgr.getByTestId("new-project-link").click();
  await mgr.getByTestId("new-project-name").fill(project);
  await mgr.getByTestId("new-project-submit").click();
  await expect(mgr.getByRole("heading", { name: project })).toBeVisible();
  const projectId = mgr.url().split("/").at(-1)!;
  await mgr
    .getByLabel("Choose images")
    .setInputFiles(["dog.jpg", "dogs.jpg", "groceries.jpg"].map((f) => path.join(fixtures, f)));
  await expect(mgr.locator('[data-testid="image-tile"][data-status="ready"]')).toHaveCount(3, {
    timeout: 180_000,
  });
  for (const [who, role] of [
    [annotator, "annotator"],
    [reviewer, "reviewer"],
  ] as const) {
    await mgr.getByTestId("add-member-email").fill(who.email);
    await mgr.getByTestId("add-member-role").selectOption(role);
    await mgr.getByTestId("add-member-submit").click();
    await expect(mgr.locator(`[data-testid="member-row"][data-email="${who.email}"]`)).toBeVisible();
  }
  await mgr.getByTestId("project-table-link").click();
  const rows = mgr.getByTestId("table-row");
  await expect(rows).toHaveCount(3);
  await mgr.getByLabel("Select this page").check();
  const [annRow] = await query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [annotator.email]);
  await mgr.getByTestId("bulk-assignee").selectOption(annRow!.id);
  await mgr.getByTestId("bulk-assign").click();
  await expect(mgr.getByTestId("table-message")).toHaveText("3 images assigned.");
  await expect(mgr.locator('[data-testid="table-row"][data-state="in_progress"]')).toHaveCount(3);
  await expect(rows.first().getByTestId("row-annotator")).toHaveText(annotator.name);
  // A manager's assignment does not run out after an hour: it has no expiry at all.
  const expiries = await query<{ expiresAt: Date | null }>(
    `SELECT a."expiresAt" FROM "Assignment" a JOIN "Image" i ON i.id = a."imageId"
      WHERE i."projectId" = $1 AND a.status = 'active'`,
    [projectId],
  );
  expect(expiries.map((e) => e.expiresAt)).toEqual([null, null, null]);

  // Annotator: "Next image" moves on without handing anything in.
  const ann = await pageAs(browser, annotator);
  await openFromProject(ann, projectId, "dog.jpg");
  const dogUrl = ann.url();
  await ann.getByTestId("next-image").click();
  await expect(ann).not.toHaveURL(dogUrl);
  await expect(ann.getByTestId("workflow-bar")).toBeVisible();
  expect(await imageState(project, "dog.jpg")).toBe("in_progress");

  // Skips dog.jpg with a reason.
  await openFromProject(ann, projectId, "dog.jpg");
  await ann.getByTestId("workflow-skip").click();
  await ann.getByTestId("skip-reason").fill("too blurry to label");
  await ann.getByTestId("skip-confirm").click();
  await expect(ann.getByTestId("workflow-state")).toHaveText("skipped");
  await expect(ann.getByTestId("workflow-skip-reason")).toContainText("too blurry to label");

  // groceries.jpg has no mask: Submit asks first, and nothing is handed in until confirmed.
  await openFromProject(ann, projectId, "groceries.jpg");
  await expect(ann.getByTestId("mask-count")).toHaveText("0");
  await ann.getByTestId("workflow-submit").click();
  await expect(ann.getByTestId("confirm-empty")).toContainText("Is there nothing to label?");
  expect(await imageState(project, "groceries.jpg")).toBe("in_progress");
  await ann.getByTestId("confirm-empty-submit").click();
  await expect(ann.getByTestId("workflow-state")).toHaveText("done");
  expect(await imageState(project, "groceries.jpg")).toBe("done");

  // dogs.jpg: one mask, then Submit (no question asked: it has a mask).
  await openFromProject(ann, projectId, "dogs.jpg");
  await waitForDecoder(ann);
  const dogsUrl = ann.url();
  await clickImage(ann, 510, 350);
  await ann.getByTestId("draft-label").fill("black dog");
  await ann.getByTestId("accept").click();
  // The accepted mask is listed (the save is queued), then stored, then listed from the server's answer
  // (between the acknowledgement and the refetch the list is briefly empty).
  await expect(ann.getByTestId("mask-count")).toHaveText("1");
  await expect(ann.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(ann.getByTestId("mask-count")).toHaveText("1");
  await expect(ann.getByTestId("mask-item")).toHaveAttribute("data-mask-id", /.+/);
  await ann.getByTestId("workflow-submit").click();
  await expect(ann.getByTestId("workflow-state")).toHaveText("submitted");
  const maskItem = ann.getByTestId("mask-item").first();
  const maskId = (await maskItem.getAttribute("data-mask-id"))!;

  // Manager: both states in the table, the skip reason with it; reopens the skipped image.
  await mgr.reload();
  const dogRow = mgr.locator('[data-testid="table-row"][data-filename="dog.jpg"]');
  await expect(dogRow).toHaveAttribute("data-state", "skipped");
  await expect(dogRow.getByTestId("row-skip-reason")).toHaveText("too blurry to label");
  const groceriesRow = mgr.locator('[data-testid="table-row"][data-filename="groceries.jpg"]');
  await expect(groceriesRow).toHaveAttribute("data-state", "done");
  await expect(groceriesRow.getByTestId("row-masks")).toHaveText("0");
  await expect(mgr.locator('[data-testid="table-row"][data-filename="dogs.jpg"]')).toHaveAttribute(
    "data-state",
    "submitted",
  );
  await mgr.getByTestId("state-filter-skipped").click();
  await expect(rows).toHaveCount(1);
  await expect(mgr.getByTestId("table-range")).toHaveText("1–1 of 1");
  await rows.first().getByTestId("row-select").check();
  await mgr.getByTestId("bulk-reopen").click();
  await expect(mgr.getByTestId("table-message")).toHaveText("1 image reopened.");
  await mgr.getByTestId("state-filter-skipped").click();
  await expect(dogRow).toHaveAttribute("data-state", "new");

  // Reviewer: from the review queue to the mask, rejected with a reason. The annotator, still on the
  // image, sees the reason arrive live.
  const rev = await pageAs(browser, reviewer);
  await rev.goto(`/projects/${projectId}`);
  await rev.getByTestId("review-queue").getByRole("link", { name: "dogs.jpg" }).click();
  await waitForDecoder(rev);
  const revItem = rev.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`);
  await revItem.getByTestId("reject").click();
  await revItem.getByTestId("reject-reason").fill("misses the tail");
  await revItem.getByTestId("confirm-reject").click();
  await expect(rev.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(rev.getByTestId("workflow-state")).toHaveText("needs changes");
  await expect(maskItem.getByTestId("reject-reason-shown")).toContainText("misses the tail", {
    timeout: 20_000,
  });
  // ... and after a reload.
  await ann.reload();
  await expect(
    ann.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`).getByTestId("reject-reason-shown"),
  ).toContainText(`Rejected by ${reviewer.name}: misses the tail`);

  // Annotator: "needs changes" on the project page lists it with the reason; the fix goes back to review.
  await ann.goto(`/projects/${projectId}`);
  const needs = ann.getByTestId("needs-changes-item");
  await expect(needs).toHaveCount(1);
  await expect(needs.getByTestId("needs-changes-reason")).toHaveText("misses the tail");
  await needs.getByTestId("needs-changes-link").click();
  await expect(ann).toHaveURL(dogsUrl);
  await expect(ann.getByTestId("workflow-state")).toHaveText("needs changes");
  const fixItem = ann.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`);
  await fixItem.getByLabel("Label").fill("black dog with tail");
  await fixItem.getByLabel("Label").press("Enter");
  await expect(ann.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(fixItem.getByTestId("reject-reason-shown")).toHaveCount(0);
  await expect(ann.getByTestId("workflow-state")).toHaveText("in review");
  expect(await imageState(project, "dogs.jpg")).toBe("in_review");
  await ann.goto(`/projects/${projectId}`);
  await expect(ann.getByTestId("needs-changes")).toHaveCount(0);

  // Reviewer approves the fix: the image is done.
  await rev.reload();
  await waitForDecoder(rev);
  await rev.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`).getByTestId("approve").click();
  await expect(rev.getByTestId("save-status")).toHaveText("All changes saved");
  await expect(rev.getByTestId("workflow-state")).toHaveText("done");

  // Annotator: deleting the approved mask asks first, then is refused with a clear message; it stays.
  await ann.goto(dogsUrl);
  const approvedItem = ann.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`);
  await expect(approvedItem).toHaveAttribute("data-review", "approved");
  await approvedItem.getByTestId("delete-mask").click();
  await expect(approvedItem.getByTestId("confirm-delete")).toContainText("Delete this approved mask?");
  await approvedItem.getByTestId("confirm-delete-yes").click();
  await expect(ann.getByTestId("save-status")).toContainText(
    "only a reviewer or a manager may change or delete it",
  );
  await expect(approvedItem.getByTestId("mask-refused")).toContainText("approved in review");
  const [stored] = await query<{ status: string; reviewDecision: string }>(
    `SELECT status::text AS status, "reviewDecision"::text AS "reviewDecision" FROM "Mask" WHERE id = $1`,
    [maskId],
  );
  expect(stored).toEqual({ status: "accepted", reviewDecision: "approved" });

  // The reviewer may delete it: asked first, then undone from the notice; it comes back approved.
  const revApproved = rev.locator(`[data-testid="mask-item"][data-mask-id="${maskId}"]`);
  await revApproved.getByTestId("delete-mask").click();
  await revApproved.getByTestId("confirm-delete-yes").click();
  await expect(revApproved).toHaveCount(0);
  await rev.getByTestId("undo-delete").click();
  await expect(revApproved).toHaveAttribute("data-review", "approved");
  await expect(rev.getByTestId("save-status")).toHaveText("All changes saved");
  const [back] = await query<{ status: string }>(`SELECT status::text AS status FROM "Mask" WHERE id = $1`, [
    maskId,
  ]);
  expect(back?.status).toBe("accepted");

  // Manager: the audit view lists all of it, and filters by action.
  await mgr.goto(`/projects/${projectId}`);
  await mgr.getByTestId("project-audit-link").click();
  const auditRows = mgr.getByTestId("audit-row");
  for (const action of [
    "assignment.reassigned",
    "image.skipped",
    "image.submitted",
    "image.reopened",
    "mask.reviewed",
    "image.state_changed",
    "mask.change_refused",
    "mask.deleted",
    "mask.restored",
  ]) {
    await expect(mgr.locator(`[data-testid="audit-row"][data-action="${action}"]`).first()).toBeVisible();
  }
  await mgr.getByTestId("audit-action").selectOption("image.skipped");
  await expect(auditRows).toHaveCount(1);
  await expect(auditRows.getByTestId("audit-details")).toContainText("reason: too blurry to label");
  await expect(auditRows).toContainText(annotator.name);
  await mgr.getByTestId("audit-action").selectOption("mask.change_refused");
  await expect(auditRows).toHaveCount(1);
  await expect(auditRows).toContainText(annotator.name);
});
