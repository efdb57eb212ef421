import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { AccountBar } from "../../../components/account-bar";
import { UserAdmin } from "../../../components/user-admin";

/** Admins: every account, its global role and state, and new accounts. */
export default async function UsersPage() {
  const user = await sessionUser(await headers());
  if (!user) redirect("/sign-in?next=/admin/users");
  return (
    <main className="page">
      <AccountBar />
      <header>
        <p>
          <Link href="/">← Projects</Link>
        </p>
        <h1>Users</h1>
        <p className="lead">
          Create accounts, set global roles, and deactivate people who should no longer sign in.
        </p>
      </header>
      {user.role === "admin" ? (
        <UserAdmin />
      ) : (
        <p role="alert" className="error" data-testid="user-admin-error">
          Only admins can manage users.
        </p>
      )}
    </main>
  );
}
