"use client";

import { authClient } from "@sas/auth/client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../trpc/client";

export function AccountBar() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.me.get.queryOptions());
  if (me.isPending) return null;
  if (!me.data) {
    return (
      <nav className="account-bar">
        <Link href="/sign-in">Sign in</Link>
      </nav>
    );
  }
  return (
    <nav className="account-bar" data-testid="account-bar">
      {me.data.role === "admin" ? (
        <Link href="/admin/users" data-testid="nav-users">
          Users
        </Link>
      ) : null}
      {me.data.role === "admin" ? (
        <Link href="/admin/passes" data-testid="nav-passes">
          Passes
        </Link>
      ) : null}
      {me.data.role === "admin" ? <Link href="/admin/queues">Queues</Link> : null}
      {me.data.role === "admin" ? <Link href="/admin/models">Models</Link> : null}
      {me.data.role === "admin" || me.data.role === "manager" ? (
        <Link href="/audit" data-testid="nav-audit">
          Audit
        </Link>
      ) : null}
      <span>
        {me.data.name} · <span className="role">{me.data.role}</span>
      </span>
      <button
        type="button"
        className="link"
        onClick={async () => {
          await authClient.signOut();
          await queryClient.invalidateQueries();
        }}
      >
        Sign out
      </button>
    </nav>
  );
}
