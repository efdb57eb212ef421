import { Suspense } from "react";
import { SignInForm } from "../../components/sign-in-form";

export default function SignInPage() {
  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <p className="lead">
        Accounts are created by an admin. The first admin's password is printed by the first start.
      </p>
      <Suspense>
        <SignInForm />
      </Suspense>
    </main>
  );
}
