import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { z } from "zod";
import { AccountBar } from "../../../components/account-bar";
import { PassLauncher } from "../../../components/passes/pass-launcher";
import { PassList } from "../../../components/passes/pass-list";

const searchSchema = z.object({ project: z.uuid().optional().catch(undefined) });

/** Admins: start semi-automatic and fully automatic passes, and follow them. */
export default async function PassesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await sessionUser(await headers());
  if (!user) redirect("/sign-in?next=/admin/passes");
  const { project } = searchSchema.parse(await searchParams);
  return (
    <main className="page">
      <AccountBar />
      <header>
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h1>Automatic passes</h1>
        <p className="lead">
          SAM's data engine, stages 2 and 3: a grid of point prompts over every image (and zoomed-in crops),
          the confident masks kept. Workers share the images; progress updates by itself.
        </p>
      </header>
      {user.role === "admin" ? (
        <>
          <PassLauncher initialProjectId={project} />
          <PassList />
        </>
      ) : (
        <p role="alert" className="error" data-testid="passes-admin-error">
          Only admins can run automatic passes.
        </p>
      )}
    </main>
  );
}
