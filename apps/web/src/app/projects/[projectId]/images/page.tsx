import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { z } from "zod";
import { AccountBar } from "../../../../components/account-bar";
import { ImageTable } from "../../../../components/image-table";

const paramsSchema = z.object({ projectId: z.uuid() });

/** The project image table (workflow states, filters, bulk actions) for its managers and reviewers. */
export default async function ProjectImagesPage({ params }: { params: Promise<{ projectId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { projectId } = parsed.data;
  if (!(await sessionUser(await headers()))) redirect(`/sign-in?next=/projects/${projectId}/images`);
  return (
    <main className="page page-wide">
      <AccountBar />
      <p>
        <Link href={`/projects/${projectId}`}>← Project</Link>
      </p>
      <ImageTable projectId={projectId} />
    </main>
  );
}
