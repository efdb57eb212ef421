import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { z } from "zod";
import { AccountBar } from "../../../../components/account-bar";
import { PassDetail } from "../../../../components/passes/pass-detail";

const paramsSchema = z.object({ passId: z.uuid() });

/** One automatic pass: progress, statistics, and its images, each opening on the annotation screen. */
export default async function PassPage({ params }: { params: Promise<{ passId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { passId } = parsed.data;
  const user = await sessionUser(await headers());
  if (!user) redirect(`/sign-in?next=/admin/passes/${passId}`);
  return (
    <main className="page">
      <AccountBar />
      {user.role === "admin" ? (
        <PassDetail passId={passId} />
      ) : (
        <p role="alert" className="error">
          Only admins can see automatic passes.
        </p>
      )}
    </main>
  );
}
