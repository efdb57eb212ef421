import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
/**
 * zxcvbn's score: 3 is "safely unguessable: moderate protection from offline slow-hash scenario" (about
 * 10^10 guesses). Our hashes are scrypt and sign-in is rate limited, so 3 is the bar.
 */
const MIN_SCORE = 3;

/** zxcvbn's warnings are translation keys; the ones a rejected password can show, in words. */
const WARNINGS: Record<string, string> = {
  straightRow: "it is a straight row of keys",
  keyPattern: "it is a short keyboard pattern",
  simpleRepeat: "it repeats one character or a short sequence",
  extendedRepeat: "it repeats a pattern",
  sequences: "it is a common sequence like abc or 123",
  recentYears: "it is or ends with a recent year",
  dates: "it is a date",
  topTen: "it is one of the ten most used passwords",
  topHundred: "it is one of the hundred most used passwords",
  common: "it is a commonly used password",
  similarToCommon: "it is very close to a commonly used password",
  wordByItself: "a single word is easy to guess",
  namesByThemselves: "a name on its own is easy to guess",
  commonNames: "it is a common name",
  userInputs: "it contains your name or email",
};

let estimator: ZxcvbnFactory | undefined;

/**
 * Why a password is too weak to accept, as one sentence for the person choosing it, or null when it is
 * fine. Checked with zxcvbn against its common-password and word lists (and the account's own name and
 * email), so "password12", ten spaces or "aaaaaaaaaa" are refused however long they are.
 */
export function passwordProblem(password: string, userInputs: string[] = []): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `the password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `the password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const result = estimator.check(password, userInputs);
  if (result.score >= MIN_SCORE) return null;
  const why = result.feedback.warning ? WARNINGS[result.feedback.warning] : undefined;
  return `the password is too easy to guess${why ? ` (${why})` : ""}: use a few unrelated words or a longer mix`;
}
