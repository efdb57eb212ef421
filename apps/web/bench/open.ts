// npm run bench:open -- [--cold N] [--warm N] [--port P] [--variant QUERY ...] [--json]
// Time to first mask: from navigation to the annotation page until the first click's mask is painted,
// in headless Debian Chromium against the real app (`npm start` on a scratch database, see harness.ts).
// The click is made as soon as the page says it can answer one (decoder and embedding ready), at the
// image centre; the time is the page's own clock (performance.now() at the paint, from navigation start).
// The browser keeps a profile on disk, as a person's does (HTTP cache, compiled-code cache, Cache Storage).
// "Cold": a new, empty profile each time, each run on another image. "Warm": the same profile opening
// one image again and again (a new page each time: nothing of the previous one's memory is reused).
// Where the time goes is read from the page's loading timeline (window.__sasOpenTimeline): medians.
// --variant QUERY (repeatable, e.g. --variant threads=1) also opens the page with that query string,
// interleaved with the default run by run, so both are measured under the same load on a busy machine:
// each variant gets its own cold images and shares the warm profile (same caches). The headline
// (coldMs, warmMs) stays the default page's; each variant's figures are listed apart.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Page } from "@playwright/test";
import { z } from "zod";
import type { OpenMark } from "../src/annotate/perf";
import { type ImageRow, median, startBenchApp } from "./harness";

const { values: flags } = parseArgs({
  options: {
    cold: { type: "string" },
    warm: { type: "string" },
    port: { type: "string" },
    variant: { type: "string", multiple: true },
    json: { type: "boolean" },
  },
});
const args = z
  .object({
    cold: z.coerce.number().int().min(1).max(20).default(3),
    warm: z.coerce.number().int().min(1).max(50).default(5),
    port: z.coerce.number().int().min(1).max(65535).default(3312),
    variant: z
      .array(z.string().regex(/^[\w.-]+=[\w.-]*(&[\w.-]+=[\w.-]*)*$/, "a query string such as threads=1"))
      .default([]),
    json: z.boolean().default(false),
  })
  .parse(flags);
/** The default page ("") first, then each --variant's query string. */
const variants = ["", ...args.variant];

interface OpenRun {
  firstMaskMs: number;
  /** The first click's decode inside the worker (feeds + session.run), and session.run alone. */
  clickDecodeMs: number;
  clickRunMs: number;
  marks: OpenMark[];
}

/** Opens the page, clicks as soon as it can answer, and reads when the mask was painted. */
async function openAndClick(page: Page, base: string, image: ImageRow, query: string): Promise<OpenRun> {
  await page.goto(`${base}/annotate/${image.id}${query ? `?${query}` : ""}`, { waitUntil: "commit" });
  await page
    .locator('[data-testid="annotate-workspace"][data-ready="yes"]')
    .waitFor({ timeout: 120_000, state: "attached" });
  const at = await page.evaluate(
    ([x, y]) => window.__sasToScreen?.(x!, y!) ?? null,
    [image.width / 2, image.height / 2],
  );
  if (!at) throw new Error("the canvas is not showing the image");
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => (window.__sasDecodePerf ?? []).some((s) => s.kind === "click"), null, {
    timeout: 30_000,
    // on a timer: polling every animation frame would make the page render frames the whole time
    polling: 10,
  });
  return page.evaluate(() => {
    const click = window.__sasDecodePerf?.find((s) => s.kind === "click");
    return {
      firstMaskMs: click?.paintedAt ?? Number.NaN,
      clickDecodeMs: click?.decodeMs ?? Number.NaN,
      clickRunMs: click?.runMs ?? Number.NaN,
      marks: window.__sasOpenTimeline ?? [],
    };
  });
}

/** Median time at which each loading step ended, over the runs (steps in the order they end). */
function stepMedians(runs: OpenRun[]): [string, number][] {
  const byStep = new Map<string, number[]>();
  for (const run of runs)
    for (const mark of run.marks) byStep.set(mark.step, [...(byStep.get(mark.step) ?? []), mark.atMs]);
  return [...byStep.entries()]
    .map(([step, times]) => [step, median(times)] as [string, number])
    .sort((a, b) => a[1] - b[1]);
}

interface VariantResult {
  coldMs: number[];
  warmMs: number[];
  coldMedianMs: number;
  warmMedianMs: number;
  coldSteps: Record<string, number>;
  warmSteps: Record<string, number>;
  firstClickDecodeMs: number;
  firstClickRunMs: number;
}

function summarise(cold: OpenRun[], warm: OpenRun[]): VariantResult {
  const coldMs = cold.map((r) => Math.round(r.firstMaskMs));
  const warmMs = warm.map((r) => Math.round(r.firstMaskMs));
  return {
    coldMs,
    warmMs,
    coldMedianMs: median(coldMs),
    warmMedianMs: median(warmMs),
    coldSteps: Object.fromEntries(stepMedians(cold).map(([s, t]) => [s, Math.round(t)])),
    warmSteps: Object.fromEntries(stepMedians(warm).map(([s, t]) => [s, Math.round(t)])),
    // The first click's decode (it has no warm-up run before it), median over every run.
    firstClickDecodeMs: Math.round(median([...cold, ...warm].map((r) => r.clickDecodeMs))),
    firstClickRunMs: Math.round(median([...cold, ...warm].map((r) => r.clickRunMs))),
  };
}

function printResult(title: string, result: VariantResult): void {
  console.log(`${title}: time to first mask (ms from navigation to the first click's mask painted)`);
  console.log(`  cold (empty browser cache)  ${result.coldMs.join(", ")}  median ${result.coldMedianMs}`);
  console.log(`  warm (reloads)              ${result.warmMs.join(", ")}  median ${result.warmMedianMs}`);
  console.log(
    `  first click's decode in the worker ${result.firstClickDecodeMs} ms (session.run ${result.firstClickRunMs} ms), median`,
  );
  for (const [name, steps] of [
    ["cold", result.coldSteps],
    ["warm", result.warmSteps],
  ] as const) {
    console.log(`  where the time goes, ${name} (median ms from navigation at which each step ended)`);
    const entries = Object.entries(steps);
    const width = Math.max(...entries.map(([s]) => s.length));
    for (const [step, t] of entries) console.log(`    ${step.padEnd(width)}  ${t.toFixed(0).padStart(6)}`);
  }
}

async function main() {
  const app = await startBenchApp({ name: "open", port: args.port, redisDb: 12 });
  try {
    const coldImages = args.cold * variants.length;
    if (app.images.length < coldImages + 1)
      throw new Error(
        `${args.cold} cold runs of ${variants.length} variant(s) need ${coldImages + 1} images, the demo has ${app.images.length}`,
      );
    const profiles = await mkdtemp(path.join(os.tmpdir(), "sas-bench-open-profiles-"));
    const cold: OpenRun[][] = variants.map(() => []);
    const warm: OpenRun[][] = variants.map(() => []);
    try {
      for (let i = 0; i < args.cold; i++)
        for (const [v, query] of variants.entries()) {
          const context = await app.annotatorProfile(path.join(profiles, `cold-${i}-${v}`));
          const image = app.images[i * variants.length + v]!;
          cold[v]!.push(await openAndClick(await context.newPage(), app.base, image, query));
          await context.close();
        }
      // Warm: one profile opens the page once (filling its caches), then opens it again in new pages.
      const image = app.images[coldImages]!;
      const context = await app.annotatorProfile(path.join(profiles, "warm"));
      const first = await context.newPage();
      await openAndClick(first, app.base, image, "");
      await first.close();
      for (let i = 0; i < args.warm; i++)
        for (const [v, query] of variants.entries()) {
          const page = await context.newPage();
          warm[v]!.push(await openAndClick(page, app.base, image, query));
          await page.close();
        }
      await context.close();
    } finally {
      await rm(profiles, { recursive: true, force: true });
    }

    const results = variants.map((_, v) => summarise(cold[v]!, warm[v]!));
    const headline = results[0]!;
    if (args.json) {
      const others = Object.fromEntries(args.variant.map((query, v) => [query, results[v + 1]!]));
      console.log(JSON.stringify({ ...headline, ...(args.variant.length ? { variants: others } : {}) }));
      return;
    }
    for (const [v, query] of variants.entries()) printResult(query ? `?${query}` : "default", results[v]!);
  } finally {
    await app.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
