import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { AccountBar } from "../../../components/account-bar";
import { QueueDashboard } from "../../../components/queue-dashboard";

/** Admins: background work across all workers, with failures, retry and remove. */
export default async function QueuesPage() {
  const user = await sessionUser(await headers());
  if (!user) redirect("/sign-in?next=/admin/queues");
  return (
    <main className="page">
      <AccountBar />
      <header>
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h1>Queues</h1>
        <p className="lead">Background work across all workers. Refreshes every few seconds.</p>
      </header>
      {user.role === "admin" ? (
        <QueueDashboard />
      ) : (
        <p role="alert" className="error" data-testid="queues-admins-only">
          The queue dashboard is for admins only. Ask an admin if background work looks stuck.
        </p>
      )}
    </main>
  );
}
