import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { z } from "zod";
import { AccountBar } from "../../../components/account-bar";
import { ProjectView } from "../../../components/project-view";

const paramsSchema = z.object({ projectId: z.uuid() });

/** A project's images: counts by status, upload for managers, and a grid that follows embedding. */
export default async function ProjectPage({ params }: { params: Promise<{ projectId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { projectId } = parsed.data;
  // Signed-out visitors go to sign-in and come back here; access itself is checked by every query.
  if (!(await sessionUser(await headers()))) redirect(`/sign-in?next=/projects/${projectId}`);
  return (
    <main className="page">
      <AccountBar />
      <ProjectView projectId={projectId} />
    </main>
  );
}
