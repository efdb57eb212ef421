// npm run bench:decode -- [--clicks N] [--images N] [--threads N] [--dwell MS] [--settle MS] [--port P] [--json]
// The real app (`npm start` against a fresh database), the real annotation page in headless Debian
// Chromium, N clicks on the demo fixture images: click-to-mask latency (pointer event to the draft
// layer painted) and the worker's own decode time, hover-preview latency, then the native Node decoder
// (onnxruntime-node) on the same prompts and embeddings in the same run, with the browser/native ratio.
// The clicks run twice: "cold", with hover and look-ahead off (the click starts the decode: the
// decoder's own latency; each click --settle ms after the previous mask is shown), and "after a rest", the same clicks made as a person makes them (the cursor
// moves to the spot, rests --dwell ms, clicks) with the page's look-ahead on.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Page } from "@playwright/test";
import { repoRoot } from "@sas/config";
import { createScratchDatabase } from "@sas/db/scratch";
import {
  BROWSER_DECODER_DERIVATION,
  BROWSER_DECODER_INPUTS,
  BROWSER_DECODER_OUTPUTS,
  browserDecoderFeeds,
  fromFloat16,
  type PointPrompt,
  selectStockCandidate,
} from "@sas/sam";
import { derivedDecoderPaths } from "@sas/sam/model-files";
import { defaultModelFiles, NodeSam } from "@sas/sam/node";
import * as ort from "onnxruntime-node";
import pg from "pg";
import { z } from "zod";
import type { PerfSample } from "../src/annotate/perf";

const args = z
  .object({
    clicks: z.coerce.number().int().min(1).max(2000).default(60),
    images: z.coerce.number().int().min(1).max(20).default(6),
    threads: z.coerce.number().int().min(1).max(64).default(2),
    port: z.coerce.number().int().default(3310),
    dwell: z.coerce.number().int().min(0).max(5000).default(200),
    settle: z.coerce.number().int().min(0).max(5000).default(150),
    json: z.boolean().default(false),
  })
  .parse(
    parseArgs({
      options: {
        clicks: { type: "string" },
        images: { type: "string" },
        threads: { type: "string" },
        port: { type: "string" },
        dwell: { type: "string" },
        settle: { type: "string" },
        json: { type: "boolean" },
      },
    }).values,
  );

const CLICKS_PER_OBJECT = 3;
const PASSWORD = "bench-annotator-password";

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** Deterministic pseudo-random numbers, so every run clicks the same places. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface ImageRow {
  id: string;
  filename: string;
  width: number;
  height: number;
}

/** One object's clicks: the first without a dense prompt, the next ones refining with the shown logits. */
interface ClickChain {
  image: ImageRow;
  points: PointPrompt[];
}

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const samples = (page: Page) => page.evaluate(() => window.__sasDecodePerf ?? []);

async function openImage(page: Page, base: string, image: ImageRow, query: string) {
  await page.goto(`${base}/annotate/${image.id}?threads=${args.threads}&ep=wasm${query}`);
  await page
    .getByTestId("annotate-workspace")
    .and(page.locator('[data-embedding-ready="yes"]'))
    .waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => !!window.__sasDecoderInfo, null, { timeout: 120_000 });
  return (x: number, y: number) =>
    page.evaluate(([ix, iy]) => window.__sasToScreen?.(ix!, iy!) ?? null, [x, y]);
}

/** Clicks one point and waits for its mask: a press without moving first, or move, rest, press. */
async function clickAndWait(
  page: Page,
  at: { x: number; y: number },
  label: 0 | 1,
  rest: { from: { x: number; y: number }; dwellMs: number } | null,
) {
  const clicks = () =>
    page.evaluate(() => (window.__sasDecodePerf ?? []).filter((s) => s.kind !== "hover").length);
  const before = await clicks();
  if (rest) {
    await page.mouse.move(rest.from.x, rest.from.y);
    await page.mouse.move(at.x, at.y, { steps: 8 });
    await page.waitForTimeout(rest.dwellMs);
  }
  await page.mouse.click(at.x, at.y, { button: label === 1 ? "left" : "right" });
  await page.waitForFunction(
    (n) => (window.__sasDecodePerf ?? []).filter((s) => s.kind !== "hover").length > n,
    before,
    // polled on a timer: Playwright's default (every animation frame) makes the page render frames the
    // whole time, which competes with the decoder for the two cores
    { timeout: 30_000, polling: 20 },
  );
}

async function main() {
  const scratch = await createScratchDatabase(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    "sas_bench_decode",
  );
  const dbUrl = scratch.url;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "sas-bench-decode-"));
  const base = `http://127.0.0.1:${args.port}`;

  const app = spawn(process.execPath, ["--import", "tsx", "packages/launcher/src/start.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/11",
      DATA_DIR: dataDir,
      PORT: String(args.port),
      LOG_LEVEL: "warn",
      INITIAL_ADMIN_PASSWORD: "bench-admin-password",
      INITIAL_ANNOTATOR_PASSWORD: PASSWORD,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await waitFor(
      "the app",
      async () => ((await fetch(`${base}/api/trpc/health.check`)).ok ? true : null),
      600_000,
    );
    await db.connect();
    const images = await waitFor(
      "the demo images' embeddings",
      async () => {
        const { rows } = await db.query<ImageRow & { status: string }>(
          `SELECT id, filename, width, height, status FROM "Image" ORDER BY filename`,
        );
        return rows.length > 0 && rows.every((r) => r.status === "ready") ? rows.slice(0, args.images) : null;
      },
      300_000,
    );

    // Annotators see the images assigned to them: hand the benchmark's images to the seeded annotator.
    await db.query(
      `INSERT INTO "Assignment" (id, "imageId", "userId", status, "leasedAt", "expiresAt")
       SELECT gen_random_uuid(), i.id, u.id, 'active', now(), now() + interval '1 hour'
         FROM "Image" i, "User" u WHERE i.id = ANY($1::uuid[]) AND u.email = 'annotator@sam-studio.local'`,
      [images.map((i) => i.id)],
    );
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${base}/sign-in`);
    await page.getByLabel("Email").fill("annotator@sam-studio.local");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);

    const random = rng(42);
    const chains: ClickChain[] = [];
    const clicksPerImage = Math.ceil(args.clicks / images.length);
    let info: { backend: string; threads: number } | null = null;
    const clickSamples: PerfSample[] = [];
    const hoverSamples: PerfSample[] = [];
    const restSamples: PerfSample[] = [];
    let restDecodes = 0;
    for (const image of images) {
      let toScreen = await openImage(page, base, image, "&lookahead=0");
      info ??= await page.evaluate(() => window.__sasDecoderInfo ?? null);

      // Hover: sweep the cursor across the image; only the latest position is ever decoded.
      const start = await toScreen(image.width * 0.2, image.height * 0.3);
      const end = await toScreen(image.width * 0.8, image.height * 0.7);
      if (!start || !end) throw new Error("canvas not ready");
      await page.mouse.move(start.x, start.y);
      await page.mouse.move(end.x, end.y, { steps: 30 });
      await page.waitForTimeout(400);
      hoverSamples.push(...(await samples(page)).filter((s) => s.kind === "hover"));
      await page.keyboard.press("h"); // hover off: click latency is measured without a hover in flight

      const imageChains: ClickChain[] = [];
      for (let done = 0; done < clicksPerImage && chains.length * CLICKS_PER_OBJECT < args.clicks; ) {
        const chain: ClickChain = { image, points: [] };
        for (let k = 0; k < CLICKS_PER_OBJECT; k++, done++) {
          const x = Math.round(image.width * (0.15 + 0.7 * random()));
          const y = Math.round(image.height * (0.15 + 0.7 * random()));
          const label = k === 0 || random() < 0.6 ? 1 : 0;
          chain.points.push({ x, y, label });
          const p = await toScreen(x, y);
          if (!p) throw new Error("canvas not ready");
          // a person reads the mask before the next click: the page's work for the last one is done
          await page.waitForTimeout(args.settle);
          await clickAndWait(page, p, label, null);
        }
        chains.push(chain);
        imageChains.push(chain);
        await page.keyboard.press("Escape");
      }
      clickSamples.push(...(await samples(page)).filter((s) => s.kind === "click"));

      // The same clicks as a person makes them, with the look-ahead on.
      toScreen = await openImage(page, base, image, "");
      let cursor = await toScreen(image.width * 0.5, image.height * 0.5);
      const sent0 = await page.evaluate(() => window.__sasDecoderCounts?.sent ?? 0);
      for (const chain of imageChains) {
        for (const point of chain.points) {
          const p = await toScreen(point.x, point.y);
          if (!p || !cursor) throw new Error("canvas not ready");
          await clickAndWait(page, p, point.label, { from: cursor, dwellMs: args.dwell });
          cursor = { x: p.x + 40, y: p.y + 25 };
        }
        await page.keyboard.press("Escape");
      }
      restDecodes += (await page.evaluate(() => window.__sasDecoderCounts?.sent ?? 0)) - sent0;
      restSamples.push(...(await samples(page)).filter((s) => s.kind === "click"));
      await page.evaluate(() => {
        window.__sasDecodePerf = [];
      });
    }

    // Native: the same graphs and the stock decoder in onnxruntime-node, same embeddings, same prompts.
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const embeddings = new Map<string, Float32Array>();
    for (const image of images) {
      const res = await fetch(`${base}/api/images/${image.id}/embedding`, { headers: { cookie } });
      if (!res.ok) throw new Error(`embedding ${image.filename}: HTTP ${res.status}`);
      embeddings.set(image.id, fromFloat16(new Uint16Array(await res.arrayBuffer())));
    }
    const files = defaultModelFiles();
    const paths = await derivedDecoderPaths(files, BROWSER_DECODER_DERIVATION);
    const opts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: args.threads,
      graphOptimizationLevel: "all",
    };
    const prepare = await ort.InferenceSession.create(paths.prepare, opts);
    const click = await ort.InferenceSession.create(paths.click, opts);
    const refine = await ort.InferenceSession.create(paths.refine, opts);
    const stock = await NodeSam.load(files, { intraOpThreads: args.threads });
    const nativeMs: number[] = [];
    const stockMs: number[] = [];
    for (const chain of chains) {
      const data = embeddings.get(chain.image.id)!;
      const embedding = new ort.Tensor("float32", data, [1, 256, 64, 64]);
      const prepared = await prepare.run({ [BROWSER_DECODER_INPUTS.imageEmbeddings]: embedding });
      let maskInput: Float32Array | undefined;
      for (let k = 1; k <= chain.points.length; k++) {
        const prompt = { points: chain.points.slice(0, k), ...(maskInput ? { maskInput } : {}) };
        const t = performance.now();
        const { model, feeds, numDecoderPoints } = browserDecoderFeeds(
          prompt,
          chain.image.width,
          chain.image.height,
        );
        const inputs: Record<string, ort.Tensor> = { ...prepared };
        for (const [name, f] of Object.entries(feeds))
          inputs[name] = new ort.Tensor("float32", f.data, f.dims);
        const out = await (model === "click" ? click : refine).run(inputs);
        nativeMs.push(performance.now() - t);
        const lowRes = out[BROWSER_DECODER_OUTPUTS.lowResMasks]!.data as Float32Array;
        const iou = out[BROWSER_DECODER_OUTPUTS.iouPredictions]!.data as Float32Array;
        const chosen = selectStockCandidate(iou, numDecoderPoints);
        maskInput = lowRes.slice(chosen * 65536, (chosen + 1) * 65536);

        const s = await stock.decode(
          { data, dims: [1, 256, 64, 64], imageWidth: chain.image.width, imageHeight: chain.image.height },
          prompt,
        );
        stockMs.push(s.decodeMs);
      }
    }
    await stock.release();

    const paint = clickSamples.map((s) => s.eventToPaintMs);
    const decode = clickSamples.map((s) => s.decodeMs);
    const runOnly = clickSamples.map((s) => s.runMs);
    const hover = hoverSamples.map((s) => s.eventToPaintMs);
    const rested = restSamples.map((s) => s.eventToPaintMs);
    const result = {
      backend: info ? `${info.backend} (${info.threads} threads)` : "unknown",
      clicks: clickSamples.length,
      browser: { p50: percentile(paint, 50), p95: percentile(paint, 95) },
      browserDecode: { p50: percentile(decode, 50), p95: percentile(decode, 95) },
      browserRun: { p50: percentile(runOnly, 50), p95: percentile(runOnly, 95) },
      hover: { count: hover.length, p50: percentile(hover, 50), p95: percentile(hover, 95) },
      afterRest: {
        dwellMs: args.dwell,
        clicks: rested.length,
        p50: percentile(rested, 50),
        p95: percentile(rested, 95),
        atPress: {
          answered: restSamples.filter((s) => s.atPress === "answered").length,
          decoding: restSamples.filter((s) => s.atPress === "decoding").length,
          none: restSamples.filter((s) => s.atPress === "none").length,
        },
        decodesSent: restDecodes,
      },
      native: { p50: percentile(nativeMs, 50), p95: percentile(nativeMs, 95) },
      nativeStock: { p50: percentile(stockMs, 50), p95: percentile(stockMs, 95) },
    };
    if (args.json) {
      console.log(JSON.stringify(result));
      return;
    }
    const ms = (v: number) => v.toFixed(1).padStart(8);
    const rows: [string, string][] = [
      ["browser backend", result.backend],
      ["clicks / hover decodes", `${result.clicks} / ${result.hover.count}`],
      ["cold click-to-mask p50 / p95 (ms)", `${ms(result.browser.p50)} / ${ms(result.browser.p95)}`],
      ["  decoder in worker p50 / p95", `${ms(result.browserDecode.p50)} / ${ms(result.browserDecode.p95)}`],
      ["  of which session.run p50 / p95", `${ms(result.browserRun.p50)} / ${ms(result.browserRun.p95)}`],
      ["hover-to-mask p50 / p95 (ms)", `${ms(result.hover.p50)} / ${ms(result.hover.p95)}`],
      [
        `click-to-mask after a ${args.dwell} ms rest p50 / p95`,
        `${ms(result.afterRest.p50)} / ${ms(result.afterRest.p95)}`,
      ],
      [
        "  at the press: answered / decoding / not started",
        `${result.afterRest.atPress.answered} / ${result.afterRest.atPress.decoding} / ${result.afterRest.atPress.none} (${result.afterRest.decodesSent} decodes for ${result.afterRest.clicks} clicks)`,
      ],
      ["native same graphs p50 / p95", `${ms(result.native.p50)} / ${ms(result.native.p95)}`],
      ["native stock decoder p50 / p95", `${ms(result.nativeStock.p50)} / ${ms(result.nativeStock.p95)}`],
      ["ratio browser decode / native (p50)", (result.browserDecode.p50 / result.native.p50).toFixed(2)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  } finally {
    await browser.close();
    await db.end().catch(() => {});
    app.kill("SIGTERM");
    await new Promise((r) => app.once("exit", r));
    await scratch.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
