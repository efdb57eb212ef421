// npm run bench:decode -- [--clicks N] [--images N] [--threads N] [--dwell MS] [--settle MS] [--port P] [--json]
// The real app (`npm start` against a fresh database, see harness.ts), the real annotation page in
// headless Debian Chromium, N clicks on the demo fixture images: click-to-mask latency (pointer event to
// the draft layer painted) and the worker's own decode time, hover-preview latency, then the native Node
// decoder (onnxruntime-node) on the same prompts and embeddings in the same run, with the browser/native
// ratio. The clicks run three times, each on a freshly opened page (no decode answered from an earlier one):
// - "cold" (the headline), hover and look-ahead off: the click starts the decode, so this is the
//   decoder's own latency; each click --settle ms after the previous mask is shown (a person reads it);
// - "cold, no settle": the same clicks with no wait at all, so whatever the page still does after showing
//   a mask (storing the draft, garbage collection) is counted too;
// - "like a hand", look-ahead on: the cursor travels to the spot on a slightly wobbly path, rests for a
//   time drawn from a spread of human dwell times (log-normal, median --dwell ms) with a few pixels of
//   tremor, and presses where it ended up. Reported with the share of clicks the look-ahead had answered
//   before the press: the latency there is only as good as that share.
import { parseArgs } from "node:util";
import type { Page } from "@playwright/test";
import {
  BROWSER_DECODER_DERIVATION,
  BROWSER_DECODER_INPUTS,
  BROWSER_DECODER_OUTPUTS,
  BROWSER_PRE_OPTIMIZED_PARTS,
  browserDecoderFeeds,
  fromFloat16,
  type PointPrompt,
  selectStockCandidate,
} from "@sas/sam";
import { defaultModelFiles, NodeSam, servedDecoderGraphs } from "@sas/sam/node";
import * as ort from "onnxruntime-node";
import { z } from "zod";
import type { PerfSample } from "../src/annotate/perf";
import { type ImageRow, percentile, rng, startBenchApp } from "./harness";

const args = z
  .object({
    clicks: z.coerce.number().int().min(1).max(2000).default(60),
    images: z.coerce.number().int().min(1).max(20).default(6),
    threads: z.coerce.number().int().min(1).max(64).default(2),
    port: z.coerce.number().int().default(3310),
    dwell: z.coerce.number().int().min(0).max(5000).default(300),
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

/** Spread of a person's rest before a click: log-normal around the median (one sigma: x0.55 to x1.8). */
const DWELL_SIGMA = 0.6;
const DWELL_MIN_MS = 60;
const DWELL_MAX_MS = 2500;
/** Tremor while resting: now and then a move of up to this many pixels, about every TREMOR_EVERY_MS. */
const TREMOR_PX = 2;
const TREMOR_EVERY_MS = 90;

/** A standard normal draw (Box-Muller) from a uniform source. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A rest before a click, drawn as a person's: log-normal around `medianMs`, clipped to a sane range. */
function drawDwell(random: () => number, medianMs: number): number {
  const ms = medianMs * Math.exp(DWELL_SIGMA * normal(random));
  return Math.round(Math.min(DWELL_MAX_MS, Math.max(DWELL_MIN_MS, ms)));
}

/** One object's clicks: the first without a dense prompt, the next ones refining with the shown logits. */
interface ClickChain {
  image: ImageRow;
  points: PointPrompt[];
}

const samples = (page: Page) => page.evaluate(() => window.__sasDecodePerf ?? []);

async function openImage(page: Page, base: string, image: ImageRow, query: string) {
  await page.goto(`${base}/annotate/${image.id}?threads=${args.threads}&ep=wasm${query}`);
  await page
    .getByTestId("annotate-workspace")
    .and(page.locator('[data-ready="yes"]'))
    .waitFor({ timeout: 120_000 });
  return (x: number, y: number) =>
    page.evaluate(([ix, iy]) => window.__sasToScreen?.(ix!, iy!) ?? null, [x, y]);
}

const clickCount = (page: Page) =>
  page.evaluate(() => (window.__sasDecodePerf ?? []).filter((s) => s.kind !== "hover").length);

async function waitForMask(page: Page, before: number) {
  await page.waitForFunction(
    (n) => (window.__sasDecodePerf ?? []).filter((s) => s.kind !== "hover").length > n,
    before,
    // polled on a timer: Playwright's default (every animation frame) makes the page render frames the
    // whole time, which competes with the decoder for the two cores
    { timeout: 30_000, polling: 20 },
  );
}

/** Presses at `at` (no rest before) and waits for the mask. */
async function clickAndWait(page: Page, at: { x: number; y: number }, label: 0 | 1) {
  const before = await clickCount(page);
  await page.mouse.click(at.x, at.y, { button: label === 1 ? "left" : "right" });
  await waitForMask(page, before);
}

/**
 * Moves like a hand from `from` to `to` (about one event per 8 px, a little sideways wobble), rests
 * `dwellMs` with an occasional pixel or two of tremor, presses where the cursor ended and waits for the
 * mask. Returns where it pressed.
 */
async function handClick(
  page: Page,
  random: () => number,
  from: { x: number; y: number },
  to: { x: number; y: number },
  label: 0 | 1,
  dwellMs: number,
) {
  const before = await clickCount(page);
  const steps = Math.max(4, Math.round(Math.hypot(to.x - from.x, to.y - from.y) / 8));
  for (let i = 1; i <= steps; i++) {
    const t = i / steps;
    const wobble = i === steps ? 0 : (random() - 0.5) * 2 * TREMOR_PX;
    await page.mouse.move(from.x + (to.x - from.x) * t + wobble, from.y + (to.y - from.y) * t - wobble);
  }
  const at = { ...to };
  for (let rested = 0; rested < dwellMs; ) {
    const pause = Math.min(dwellMs - rested, Math.round(TREMOR_EVERY_MS * (0.5 + random())));
    await page.waitForTimeout(pause);
    rested += pause;
    if (rested < dwellMs && random() < 0.4) {
      at.x += Math.round((random() - 0.5) * 2 * TREMOR_PX);
      at.y += Math.round((random() - 0.5) * 2 * TREMOR_PX);
      await page.mouse.move(at.x, at.y);
    }
  }
  const button = label === 1 ? "left" : "right";
  await page.mouse.down({ button });
  await page.mouse.up({ button });
  await waitForMask(page, before);
  return at;
}

async function main() {
  const app = await startBenchApp({ name: "decode", port: args.port, redisDb: 11, images: args.images });
  try {
    const { images } = app;
    const context = await app.annotatorContext();
    const page = await context.newPage();
    const random = rng(42);
    const chains: ClickChain[] = [];
    const clicksPerImage = Math.ceil(args.clicks / images.length);
    let info: { backend: string; threads: number } | null = null;
    const clickSamples: PerfSample[] = [];
    const noSettleSamples: PerfSample[] = [];
    const hoverSamples: PerfSample[] = [];
    const restSamples: PerfSample[] = [];
    const dwells: number[] = [];
    let restDecodes = 0;
    for (const image of images) {
      let toScreen = await openImage(page, app.base, image, "&lookahead=0");
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
          await clickAndWait(page, p, label);
        }
        chains.push(chain);
        imageChains.push(chain);
        await page.keyboard.press("Escape");
      }
      clickSamples.push(...(await samples(page)).filter((s) => s.kind === "click"));

      // The same clicks again on a fresh page, each as soon as the previous mask is shown.
      toScreen = await openImage(page, app.base, image, "&lookahead=0");
      await page.keyboard.press("h");
      for (const chain of imageChains) {
        for (const point of chain.points) {
          const p = await toScreen(point.x, point.y);
          if (!p) throw new Error("canvas not ready");
          await clickAndWait(page, p, point.label);
        }
        await page.keyboard.press("Escape");
      }
      noSettleSamples.push(...(await samples(page)).filter((s) => s.kind === "click"));

      // The same clicks as a hand makes them, with the look-ahead on.
      toScreen = await openImage(page, app.base, image, "");
      let cursor = await toScreen(image.width * 0.5, image.height * 0.5);
      const sent0 = await page.evaluate(() => window.__sasDecoderCounts?.sent ?? 0);
      for (const chain of imageChains) {
        for (const point of chain.points) {
          const p = await toScreen(point.x, point.y);
          if (!p || !cursor) throw new Error("canvas not ready");
          const dwell = drawDwell(random, args.dwell);
          dwells.push(dwell);
          cursor = await handClick(page, random, cursor, p, point.label, dwell);
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
    const cookies = await context.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const embeddings = new Map<string, Float32Array>();
    for (const image of images) {
      const res = await fetch(`${app.base}/api/images/${image.id}/embedding`, { headers: { cookie } });
      if (!res.ok) throw new Error(`embedding ${image.filename}: HTTP ${res.status}`);
      embeddings.set(image.id, fromFloat16(new Uint16Array(await res.arrayBuffer())));
    }
    const files = defaultModelFiles();
    // exactly the graphs the page ran: the served, content-named files
    const graphs = await servedDecoderGraphs(
      files,
      BROWSER_DECODER_DERIVATION,
      undefined,
      BROWSER_PRE_OPTIMIZED_PARTS,
    );
    const paths = { prepare: graphs.prepare.path, click: graphs.click.path, refine: graphs.refine.path };
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
    const noSettle = noSettleSamples.map((s) => s.eventToPaintMs);
    const hover = hoverSamples.map((s) => s.eventToPaintMs);
    const rested = restSamples.map((s) => s.eventToPaintMs);
    const answered = restSamples.filter((s) => s.atPress === "answered").length;
    const result = {
      backend: info ? `${info.backend} (${info.threads} threads)` : "unknown",
      clicks: clickSamples.length,
      browser: { p50: percentile(paint, 50), p95: percentile(paint, 95) },
      browserNoSettle: { p50: percentile(noSettle, 50), p95: percentile(noSettle, 95) },
      browserDecode: { p50: percentile(decode, 50), p95: percentile(decode, 95) },
      browserRun: { p50: percentile(runOnly, 50), p95: percentile(runOnly, 95) },
      hover: { count: hover.length, p50: percentile(hover, 50), p95: percentile(hover, 95) },
      afterRest: {
        dwellMedianMs: args.dwell,
        dwellDrawn: { p10: percentile(dwells, 10), p50: percentile(dwells, 50), p90: percentile(dwells, 90) },
        clicks: rested.length,
        p50: percentile(rested, 50),
        p95: percentile(rested, 95),
        answeredAheadShare: rested.length ? answered / rested.length : 0,
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
      [
        "  cold, no settle wait p50 / p95",
        `${ms(result.browserNoSettle.p50)} / ${ms(result.browserNoSettle.p95)}`,
      ],
      ["  decoder in worker p50 / p95", `${ms(result.browserDecode.p50)} / ${ms(result.browserDecode.p95)}`],
      ["  of which session.run p50 / p95", `${ms(result.browserRun.p50)} / ${ms(result.browserRun.p95)}`],
      ["hover-to-mask p50 / p95 (ms)", `${ms(result.hover.p50)} / ${ms(result.hover.p95)}`],
      [
        `like a hand (rests p10/p50/p90 ${result.afterRest.dwellDrawn.p10}/${result.afterRest.dwellDrawn.p50}/${result.afterRest.dwellDrawn.p90} ms) p50 / p95`,
        `${ms(result.afterRest.p50)} / ${ms(result.afterRest.p95)}  answered ahead ${(100 * result.afterRest.answeredAheadShare).toFixed(0)}%`,
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
    await app.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
