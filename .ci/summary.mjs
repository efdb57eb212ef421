// Prints one closing line for the whole test command from the Vitest and Playwright JSON reports.
import { existsSync, readFileSync } from "node:fs";

const dir = "node_modules/.cache/sas-test";
let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];

for (const suite of ["unit", "integration"]) {
  const file = `${dir}/${suite}.json`;
  if (!existsSync(file)) {
    parts.push(`${suite}: not run`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  parts.push(`${suite}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}

const e2eFile = `${dir}/e2e.json`;
if (existsSync(e2eFile)) {
  const stats = JSON.parse(readFileSync(e2eFile, "utf8")).stats;
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
  parts.push(`e2e: ${stats.expected + stats.flaky} passed, ${stats.unexpected} failed`);
} else {
  parts.push("e2e: not run");
}

console.log(parts.join(" | "));
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
