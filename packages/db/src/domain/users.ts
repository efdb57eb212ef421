import { hashPassword } from "better-auth/crypto";
import type { PrismaClient, Role, User } from "../generated/prisma/client";

/** better-auth's credential provider id: accounts made here can sign in through it. */
export const CREDENTIAL_PROVIDER = "credential";

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  password: string;
}

export async function createUserWithPassword(db: PrismaClient, input: NewUser): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    const user = await tx.user.create({
      data: { email: input.email.toLowerCase(), name: input.name, role: input.role, emailVerified: true },
    });
    await tx.account.create({
      data: { userId: user.id, accountId: user.id, providerId: CREDENTIAL_PROVIDER, password: passwordHash },
    });
    return user;
  });
}
