import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { Suspense } from "react";
import { z } from "zod";
import { AccountBar } from "../../../../../../components/account-bar";
import { AnnotatorView } from "../../../../../../components/stats/annotator-view";

const paramsSchema = z.object({ projectId: z.uuid(), userId: z.uuid() });

/** One annotator's statistics against the project median, for the project's managers and admins. */
export default async function AnnotatorStatsPage({
  params,
}: {
  params: Promise<{ projectId: string; userId: string }>;
}) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { projectId, userId } = parsed.data;
  if (!(await sessionUser(await headers()))) {
    redirect(`/sign-in?next=/projects/${projectId}/stats/annotators/${userId}`);
  }
  return (
    <main className="page">
      <AccountBar />
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <AnnotatorView projectId={projectId} userId={userId} />
      </Suspense>
    </main>
  );
}
