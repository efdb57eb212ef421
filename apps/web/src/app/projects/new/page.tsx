import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { AccountBar } from "../../../components/account-bar";
import { NewProjectForm } from "../../../components/new-project";

/** Global managers and admins start projects here; the creator becomes the project's manager. */
export default async function NewProjectPage() {
  const user = await sessionUser(await headers());
  if (!user) redirect("/sign-in?next=/projects/new");
  const allowed = user.role === "admin" || user.role === "manager";
  return (
    <main className="page">
      <AccountBar />
      <header>
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h1>New project</h1>
        <p className="lead">You become the project's manager: add images and members once it exists.</p>
      </header>
      {allowed ? (
        <NewProjectForm />
      ) : (
        <p role="alert" className="error" data-testid="new-project-error">
          Only managers and admins can create projects.
        </p>
      )}
    </main>
  );
}
