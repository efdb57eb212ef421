import { describe, expect, it } from "vitest";
import { passwordProblem } from "./password";

describe("passwordProblem", () => {
  it.each(["          ", "aaaaaaaaaa", "password12", "qwertyuiop12", "1234567890"])(
    "refuses %j",
    (password) => {
      expect(passwordProblem(password)).toMatch(/too easy to guess/);
    },
  );

  it("says what is wrong with length and with the user's own name", () => {
    expect(passwordProblem("short")).toBe("the password needs at least 10 characters");
    expect(passwordProblem("x".repeat(129))).toBe("the password may have at most 128 characters");
    expect(passwordProblem("margaretthatcher", ["Margaret Thatcher"])).toMatch(/too easy to guess/);
  });

  it("accepts a few unrelated words", () => {
    expect(passwordProblem("violet tractor sings loudly")).toBeNull();
  });
});
