import { MAX_NAME_LENGTH, passwordProblem } from "@sas/auth";
import {
  createUserWithPassword,
  listUsers,
  RuleViolation,
  searchUsers,
  setUserActive,
  setUserRole,
} from "@sas/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { assertCanManageProject } from "../access";
import { text } from "../inputs";
import { adminProcedure, protectedProcedure, router } from "../trpc";

/** Runs a domain call, turning a refused business rule into the tRPC error of the same code. */
export async function withRules<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RuleViolation) {
      throw new TRPCError({ code: error.code, message: error.message, cause: error });
    }
    throw error;
  }
}

export const globalRole = z.enum(["admin", "manager", "annotator"]);

/** Length, then strength: zxcvbn against common passwords and the account's own name and email. */
function checkPassword(input: { email: string; name: string; password: string }, ctx: z.RefinementCtx) {
  const problem = passwordProblem(input.password, [input.email, input.name]);
  if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["password"] });
}

/** Global user administration (admins only), and the people picker managers use to add members. */
export const usersRouter = router({
  /** Every user with role, active flag and how many projects they belong to. */
  list: adminProcedure.query(({ ctx }) => listUsers(ctx.db)),

  /** A new email+password account; CONFLICT when the email is taken. Audited as `user.created`. */
  create: adminProcedure
    .input(
      z
        .object({
          email: z.email("enter a valid email address").max(320),
          name: text().trim().min(1, "enter a name").max(MAX_NAME_LENGTH),
          role: globalRole,
          password: text(),
        })
        .superRefine(checkPassword),
    )
    .mutation(async ({ ctx, input }) => {
      const user = await withRules(() => createUserWithPassword(ctx.db, input, { actorId: ctx.user.id }));
      ctx.log.info({ userId: user.id, role: user.role, by: ctx.user.id }, "user created");
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        active: user.active,
        createdAt: user.createdAt,
      };
    }),

  /** Changes a global role; an admin cannot demote themself and the last active admin stays. */
  setRole: adminProcedure
    .input(z.object({ userId: z.uuid(), role: globalRole }))
    .mutation(({ ctx, input }) =>
      withRules(() => setUserRole(ctx.db, { actorId: ctx.user.id, userId: input.userId, role: input.role })),
    ),

  /** Deactivates (signing the user out everywhere at once) or reactivates an account. */
  setActive: adminProcedure
    .input(z.object({ userId: z.uuid(), active: z.boolean() }))
    .mutation(({ ctx, input }) =>
      withRules(() =>
        setUserActive(ctx.db, { actorId: ctx.user.id, userId: input.userId, active: input.active }),
      ),
    ),

  /**
   * Active users matching a name or email fragment: id, name and email only. With `projectId` the caller
   * must manage that project (any global role) and its members are left out; without it, global admins
   * and managers only.
   */
  search: protectedProcedure
    .input(
      z.object({
        query: text().trim().max(200),
        projectId: z.uuid().optional(),
        limit: z.number().int().min(1).max(50).default(20),
      }),
    )
    .query(async ({ ctx, input }) => {
      if (input.projectId) {
        await assertCanManageProject(ctx.db, ctx.user, input.projectId);
      } else if (ctx.user.role !== "admin" && ctx.user.role !== "manager") {
        throw new TRPCError({ code: "FORBIDDEN", message: "needs role admin or manager" });
      }
      return searchUsers(ctx.db, {
        query: input.query,
        excludeProjectId: input.projectId ?? null,
        limit: input.limit,
      });
    }),
});
