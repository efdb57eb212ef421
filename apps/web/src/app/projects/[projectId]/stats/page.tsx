import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { Suspense } from "react";
import { z } from "zod";
import { AccountBar } from "../../../../components/account-bar";
import { StatsDashboard } from "../../../../components/stats/dashboard";

const paramsSchema = z.object({ projectId: z.uuid() });

/** A project's statistics dashboard, for its managers and admins (the API refuses everyone else). */
export default async function StatsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { projectId } = parsed.data;
  if (!(await sessionUser(await headers()))) redirect(`/sign-in?next=/projects/${projectId}/stats`);
  return (
    <main className="page">
      <AccountBar />
      <h1>Statistics</h1>
      <p className="lead">
        How long masks take, how fast the team works, how good the masks are, and what the dataset looks like.
      </p>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <StatsDashboard projectId={projectId} />
      </Suspense>
    </main>
  );
}
