/**
 * bench:stats — the manager dashboard's queries over a project with many masks.
 *
 *   npm run bench:stats -- [--masks 1000000] [--runs 10] [--json] [--keep] [--database URL] [--only TEXT]
 *
 * Seeds a scratch database (on DATABASE_URL's server, dropped at the end unless --keep) with one project
 * of `--masks` masks in SQL (generate_series, not row by row): 50 masks per image, made one after the other
 * by one of 20 annotators; two model versions; 26 weeks; 60% assisted-manual masks with timings, 25%
 * semi-automatic with timings, 15% fully automatic (masks and timings written in one transaction, as the
 * app does); a third of the masks reviewed, corrections with an IoU; 2% deleted. Each mask's RLE is a
 * 300-byte string, so rows weigh about what real ones do. Then VACUUM ANALYZE (autovacuum would do the same
 * on a live server) and each dashboard query `--runs` times, after one warm-up run, with and without
 * filters. Prints a table of p50/p95 per query and one JSON line whose `p95` is over all of them.
 *
 * `--database URL` measures a database seeded before (with `--keep`) instead: it is migrated to the
 * latest schema (new indexes and triggers), analysed, and kept. `--only TEXT` runs the queries whose name
 * contains TEXT. Both are for development; the numbers of record come from a fresh seed.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { createPrisma } from "../src/client";
import {
  annotatorStats,
  centreHeatmap,
  correctionIou,
  imagesPerDay,
  interactionsPerMask,
  masksPerHour,
  masksPerHourByAnnotator,
  masksPerHourByWeek,
  masksPerImageByStage,
  masksPerImageByWeek,
  masksPerImageDistribution,
  relativeSizeHistogram,
  reviewOutcomes,
  type StatsScope,
  secondsPerMask,
  secondsPerMaskBy,
  secondsPerMaskByWeek,
  stageSourceSplit,
  statsScope,
  statsTableRows,
} from "../src/domain/stats/index";
import type { PrismaClient } from "../src/generated/prisma/client";
import { migrate } from "../src/migrate";
import { createScratchDatabase } from "../src/testing/scratch-database";

const { values: args } = parseArgs({
  options: {
    masks: { type: "string", default: "1000000" },
    runs: { type: "string", default: "10" },
    json: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    database: { type: "string" },
    only: { type: "string" },
  },
});

const log = (line: string) => process.stderr.write(`bench:stats: ${line}\n`);

/** The seed, as SQL. Random but repeatable (setseed), every row made by generate_series. */
function seedSql(masks: number): string[] {
  const images = Math.max(1, Math.round(masks / 50));
  return [
    "SELECT setseed(0.42)",
    `INSERT INTO "User" (id, email, name, role, "updatedAt")
       SELECT gen_random_uuid(), 'annotator' || n || '@bench.local', 'annotator ' || n, 'annotator', now()
       FROM generate_series(1, 20) n`,
    `INSERT INTO "ModelVersion" (id, name, "encoderPath", "encoderSha256", "decoderPath", "decoderSha256")
       SELECT gen_random_uuid(), 'v' || n, 'x', repeat('0', 64), 'x', repeat('0', 64) FROM generate_series(1, 2) n`,
    `INSERT INTO "Project" (id, name, "updatedAt") VALUES (gen_random_uuid(), 'bench-stats', now())`,
    `CREATE TEMP TABLE bench_user AS SELECT row_number() OVER (ORDER BY email) - 1 AS n, id FROM "User"`,
    `CREATE TEMP TABLE bench_version AS SELECT row_number() OVER (ORDER BY name) - 1 AS n, id FROM "ModelVersion"`,
    `CREATE TEMP TABLE bench_image (n int PRIMARY KEY, id uuid, width int, height int)`,
    `INSERT INTO bench_image
       SELECT n, gen_random_uuid(), (ARRAY[1500, 1024, 2250, 800])[1 + n % 4], (ARRAY[1000, 768, 1500, 600])[1 + n % 4]
       FROM generate_series(0, ${images - 1}) n`,
    `INSERT INTO "Image" (id, "projectId", filename, "mimeType", width, height, "sizeBytes", sha256, "storageKey",
         status, "createdAt", "updatedAt")
       SELECT b.id, p.id, 'img-' || b.n || '.jpg', 'image/jpeg', b.width, b.height, 100000,
         lpad(to_hex(b.n), 64, '0'), 'images/bench/' || b.n, 'ready', now(), now()
       FROM bench_image b, "Project" p`,
    // One row per mask: its image, its kind (0-59 assisted, 60-84 semi, 85-99 automatic), when, by whom. An
    // image's masks are consecutive, so they are made within minutes of each other by one annotator, as
    // when a person works through an image.
    `CREATE TEMP TABLE bench_mask AS
       SELECT g, gen_random_uuid() AS id, least(g / 50, ${images - 1})::int AS image,
         (g::bigint * 7919 % 100)::int AS kind,
         timestamp '2026-01-05' + (g::float8 / ${masks}) * interval '182 days' AS created,
         (least(g / 50, ${images - 1}) * 31 % 20)::int AS author,
         random() AS r1, random() AS r2, random() AS r3, random() AS r4
       FROM generate_series(0, ${masks - 1}) g`,
    // Masks and their timings in one transaction, as the app saves a manual mask with its timing.
    "BEGIN",
    `INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "predictedIou", "stabilityScore", "cropBox", source, stage,
         "modelVersionId", "authorId", status, "reviewDecision", "createdAt", "updatedAt")
       SELECT m.id, b.id,
         jsonb_build_object('size', jsonb_build_array(b.height, b.width), 'counts', repeat('a', 300)),
         ARRAY[m.r1 * b.width * 0.7, m.r2 * b.height * 0.7, (0.02 + m.r3 * 0.28) * b.width,
               (0.02 + m.r4 * 0.28) * b.height]::float8[],
         greatest(1, (0.6 * (0.02 + m.r3 * 0.28) * b.width * (0.02 + m.r4 * 0.28) * b.height)::int),
         0.9, 0.95, ARRAY[]::float8[],
         (CASE WHEN m.kind < 60 THEN 'manual' WHEN m.kind < 85 THEN 'semi_auto' ELSE 'auto' END)::"MaskSource",
         (CASE WHEN m.kind < 60 THEN 'assisted_manual' WHEN m.kind < 85 THEN 'semi_automatic'
               ELSE 'fully_automatic' END)::"Stage",
         v.id, CASE WHEN m.kind < 85 THEN u.id END,
         (CASE WHEN m.g % 50 = 0 THEN 'deleted' WHEN m.g % 3 = 0 AND m.r1 < 0.1 THEN 'rejected'
               WHEN m.kind >= 85 AND m.g % 3 <> 0 THEN 'proposed' ELSE 'accepted' END)::"MaskStatus",
         (CASE WHEN m.g % 3 <> 0 THEN NULL WHEN m.r1 < 0.1 THEN 'rejected' WHEN m.r1 < 0.35 THEN 'corrected'
               ELSE 'approved' END)::"ReviewDecision",
         m.created, m.created
       FROM bench_mask m JOIN bench_image b ON b.n = m.image
         JOIN bench_user u ON u.n = m.author
         JOIN bench_version v ON v.n = CASE WHEN m.created < timestamp '2026-04-01' THEN 0 ELSE 1 END`,
    // Timings: active time falling over the weeks (34 s to 14 s, as in the paper), with spread.
    `INSERT INTO "MaskTiming" (id, "maskId", "annotatorId", "startedAt", "finishedAt", "activeMs", clicks, boxes,
         "brushStrokes", undos)
       SELECT gen_random_uuid(), m.id, u.id, m.created - interval '30 seconds', m.created,
         (1000 * (34 - 20 * m.g::float8 / ${masks}) * (0.4 + 1.2 * m.r2))::int,
         1 + (m.r3 * 8)::int, (m.r4 < 0.2)::int, (m.r1 < 0.1)::int, (m.r2 < 0.15)::int
       FROM bench_mask m JOIN bench_user u ON u.n = m.author WHERE m.kind < 85`,
    "COMMIT",
    `INSERT INTO "MaskReview" (id, "maskId", decision, iou, "createdAt")
       SELECT gen_random_uuid(), m.id,
         (CASE WHEN m.r1 < 0.1 THEN 'rejected' WHEN m.r1 < 0.35 THEN 'corrected' ELSE 'approved' END)::"ReviewDecision",
         CASE WHEN m.r1 >= 0.1 AND m.r1 < 0.35 THEN least(1, 0.5 + m.r2 * 0.55) END, m.created + interval '1 day'
       FROM bench_mask m WHERE m.g % 3 = 0`,
    "VACUUM ANALYZE",
  ];
}

async function seed(url: string, masks: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of seedSql(masks)) {
      const started = performance.now();
      await client.query(sql);
      log(
        `${sql.trim().split("\n")[0]!.slice(0, 70)}… ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await client.end();
  }
}

interface Query {
  name: string;
  run: () => Promise<unknown>;
}

function queries(
  db: PrismaClient,
  all: StatsScope,
  filtered: StatsScope,
  projectId: string,
  annotatorId: string,
) {
  const list: Query[] = [];
  for (const [suffix, scope] of [
    ["", all],
    [" (filtered)", filtered],
  ] as const) {
    list.push(
      { name: `seconds per mask${suffix}`, run: () => secondsPerMask(db, scope) },
      { name: `seconds per mask by week${suffix}`, run: () => secondsPerMaskByWeek(db, scope) },
      { name: `seconds per mask by annotator${suffix}`, run: () => secondsPerMaskBy(db, scope, "annotator") },
      { name: `seconds per mask by stage${suffix}`, run: () => secondsPerMaskBy(db, scope, "stage") },
      { name: `seconds per mask by model${suffix}`, run: () => secondsPerMaskBy(db, scope, "modelVersion") },
      { name: `interactions per mask${suffix}`, run: () => interactionsPerMask(db, scope) },
      { name: `masks per hour${suffix}`, run: () => masksPerHour(db, scope) },
      { name: `masks per hour by annotator${suffix}`, run: () => masksPerHourByAnnotator(db, scope) },
      { name: `masks per hour by week${suffix}`, run: () => masksPerHourByWeek(db, scope) },
      { name: `images per day${suffix}`, run: () => imagesPerDay(db, scope) },
      { name: `masks per image by week${suffix}`, run: () => masksPerImageByWeek(db, scope) },
      { name: `masks per image by stage${suffix}`, run: () => masksPerImageByStage(db, scope) },
      { name: `review outcomes${suffix}`, run: () => reviewOutcomes(db, scope) },
      { name: `correction IoU${suffix}`, run: () => correctionIou(db, scope) },
      { name: `masks per image distribution${suffix}`, run: () => masksPerImageDistribution(db, scope) },
      { name: `relative size histogram${suffix}`, run: () => relativeSizeHistogram(db, scope) },
      { name: `centre heatmap${suffix}`, run: () => centreHeatmap(db, scope) },
      { name: `stage/source split${suffix}`, run: () => stageSourceSplit(db, scope) },
    );
  }
  list.push(
    { name: "annotator page", run: () => annotatorStats(db, { projectId }, annotatorId) },
    {
      // What the CSV route reads first: one batch of the per-mask table.
      name: "per-mask table, first 5000 rows",
      run: async () => {
        for await (const _ of statsTableRows(db, all, "dataset")) break;
      },
    },
  );
  return list;
}

const percentile = (sorted: number[], q: number) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

async function main(): Promise<void> {
  const masks = Number(args.masks);
  const runs = Number(args.runs);
  if (!Number.isInteger(masks) || masks < 100) throw new Error("--masks must be an integer of at least 100");
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const scratch = args.database
    ? { url: args.database, drop: async () => {} }
    : await createScratchDatabase(
        process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
        "sas_bench_stats",
      );
  const keep = args.keep || Boolean(args.database);
  const db = createPrisma(scratch.url, { max: 4 });
  try {
    await migrate(scratch.url);
    let seedSeconds = 0;
    if (args.database) {
      await db.$executeRawUnsafe("VACUUM ANALYZE");
    } else {
      log(`seeding ${masks} masks`);
      const seedStart = performance.now();
      await seed(scratch.url, masks);
      seedSeconds = (performance.now() - seedStart) / 1000;
      log(`seeded in ${seedSeconds.toFixed(1)} s`);
    }
    const project = await db.project.findFirstOrThrow({ where: { name: "bench-stats" } });
    const annotator = await db.user.findFirstOrThrow({ where: { email: "annotator1@bench.local" } });
    const all = await statsScope(db, { projectId: project.id });
    // The last 4 weeks, assisted-manual only: a manager's typical narrowed view.
    const filtered = await statsScope(db, {
      projectId: project.id,
      from: new Date("2026-06-08T00:00:00Z"),
      to: new Date("2026-07-06T00:00:00Z"),
      stage: "assisted_manual",
    });
    const results: { name: string; p50: number; p95: number; max: number }[] = [];
    const every: number[] = [];
    const chosen = queries(db, all, filtered, project.id, annotator.id).filter(
      (q) => !args.only || q.name.includes(args.only),
    );
    for (const q of chosen) {
      await q.run();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await q.run();
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      every.push(...times);
      results.push({
        name: q.name,
        p50: percentile(times, 0.5),
        p95: percentile(times, 0.95),
        max: times.at(-1)!,
      });
      log(`${q.name}: p50 ${percentile(times, 0.5).toFixed(0)} ms`);
    }
    every.sort((a, b) => a - b);
    const p95 = percentile(every, 0.95);
    if (!args.json) {
      const width = Math.max(...results.map((r) => r.name.length));
      const lines = results.map(
        (r) =>
          `${r.name.padEnd(width)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.max
            .toFixed(1)
            .padStart(8)}`,
      );
      process.stdout.write(
        `${"query".padEnd(width)}  p50 ms   p95 ms   max ms\n${lines.join("\n")}\n` +
          `${"all queries".padEnd(width)} ${percentile(every, 0.5).toFixed(1).padStart(8)} ${p95
            .toFixed(1)
            .padStart(8)} ${every.at(-1)!.toFixed(1).padStart(8)}\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: "stats",
        masks,
        runs,
        seedSeconds: Number(seedSeconds.toFixed(1)),
        p50: Number(percentile(every, 0.5).toFixed(1)),
        p95: Number(p95.toFixed(1)),
        queries: results.map((r) => ({
          name: r.name,
          p50: Number(r.p50.toFixed(1)),
          p95: Number(r.p95.toFixed(1)),
        })),
      })}\n`,
    );
  } finally {
    await db.$disconnect();
    if (keep) log(`kept ${scratch.url}`);
    else await scratch.drop().catch(() => {});
  }
}

await main();
// A kept database leaves its admin connection open; nothing else is pending.
if (args.keep || args.database) process.exit(0);
