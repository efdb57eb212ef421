import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { z } from "zod";
import { AccountBar } from "../../components/account-bar";
import { AuditView } from "../../components/audit-view";

const searchSchema = z.object({ project: z.uuid().optional() });

/** The audit log: admins see every project's, managers their projects' (each query checks again). */
export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await sessionUser(await headers());
  if (!user) redirect("/sign-in?next=/audit");
  const search = searchSchema.safeParse(await searchParams);
  const projectId = search.success ? (search.data.project ?? null) : null;
  return (
    <main className="page">
      <AccountBar />
      <p>
        <Link href={projectId ? `/projects/${projectId}` : "/"}>← Back</Link>
      </p>
      <h1>Audit log</h1>
      <AuditView initialProjectId={projectId} isAdmin={user.role === "admin"} />
    </main>
  );
}
