// Seeding for `bench:api -- --images N --masks M` at the scale of issue 16 (1M images, 5M masks): rows are
// made inside PostgreSQL with generate_series in chunks, not built in Node and sent over the wire, so a
// million images take seconds to minutes rather than the better part of an hour.
import { createHash } from "node:crypto";
import { decodeRle, maskToBbox } from "@sas/sa1b";
import type pg from "pg";
import { BENCH_IMAGE_SIZES, type SyntheticMask } from "./api-masks";

/** Rows per INSERT: big enough to amortise the statement, small enough to show progress. */
const CHUNK = 250_000;

/**
 * The id of bench image `n`: a UUID made from an md5 of its index, the same in SQL (`benchImageIdSql`) and
 * here, so masks find their image by arithmetic and the bench knows every image's size without a query.
 */
export function benchImageId(n: number): string {
  const hex = createHash("md5").update(`bench-image-${n}`).digest("hex");
  // Version 4 and variant 8 in their nibbles: the API's inputs accept only RFC 9562 UUIDs.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/** The same id in SQL, for the image index expression `n`. */
const benchImageIdSql = (n: string) =>
  `overlay(overlay(md5('bench-image-' || ${n}) placing '4' from 13) placing '8' from 17)::uuid`;

/** Image `n` has size BENCH_IMAGE_SIZES[n % 3], as the bench has always assigned them. */
export function benchImageSizes(images: number): Map<string, string> {
  const sizes = new Map<string, string>();
  for (let n = 0; n < images; n++) {
    const size = BENCH_IMAGE_SIZES[n % BENCH_IMAGE_SIZES.length]!;
    sizes.set(benchImageId(n), `${size.width}x${size.height}`);
  }
  return sizes;
}

export interface SeedScaleInput {
  projectId: string;
  images: number;
  /** Masks spread evenly over the images (mask g is on image g mod N), as an automatic pass leaves them. */
  masks: number;
  /** Synthetic masks per image size (`${w}x${h}`), reused in turn. */
  pool: Map<string, SyntheticMask[]>;
  log: (line: string) => void;
}

/** Inserts the images (status ready, upload times one second apart, oldest first) and the masks. */
export async function seedImagesAndMasks(
  client: pg.Client,
  { projectId, images, masks, pool, log }: SeedScaleInput,
): Promise<{ imageSeconds: number; maskSeconds: number }> {
  const sizeCount = BENCH_IMAGE_SIZES.length;
  const widths = BENCH_IMAGE_SIZES.map((s) => s.width);
  const heights = BENCH_IMAGE_SIZES.map((s) => s.height);
  const started = performance.now();
  for (let from = 0; from < images; from += CHUNK) {
    const to = Math.min(images, from + CHUNK) - 1;
    await client.query(
      `INSERT INTO "Image" (id, "projectId", filename, "mimeType", width, height, "sizeBytes", sha256,
                            "storageKey", status, "createdAt", "updatedAt")
       SELECT ${benchImageIdSql("g")}, $1::uuid, 'bench-' || lpad(g::text, 7, '0') || '.jpg',
              'image/jpeg', ($2::int[])[g % $4 + 1], ($3::int[])[g % $4 + 1], 400000,
              encode(sha256(('bench-image-' || g)::bytea), 'hex'), 'bench/' || g || '.jpg', 'ready',
              now() - make_interval(secs => $6 - g), now()
       FROM generate_series($5::int, $7::int) g`,
      [projectId, widths, heights, sizeCount, from, images, to],
    );
    log(`images: ${to + 1}/${images}`);
  }
  const imageSeconds = (performance.now() - started) / 1000;

  // Per size, the pool's masks as [{rle, bbox, area, point}]; SQL picks mask (g / N) mod poolSize.
  const poolJson = BENCH_IMAGE_SIZES.map(({ width, height }) =>
    (pool.get(`${width}x${height}`) ?? []).map((mask) => ({
      rle: mask.rle,
      bbox: maskToBbox(decodeRle(mask.rle)),
      area: mask.area,
      point: mask.point,
    })),
  );
  const poolSize = Math.min(...poolJson.map((masksOfSize) => masksOfSize.length));
  if (masks > 0 && poolSize === 0) throw new Error("the mask pool is empty");
  // The pool as a small table, so each mask row is a join, not a JSON walk.
  await client.query(
    `CREATE TEMP TABLE bench_mask_pool AS
    SELECT (s.ord - 1)::int AS size_index, (k.ord - 1)::int AS k, k.m->'rle' AS rle,
           ARRAY(SELECT jsonb_array_elements_text(k.m->'bbox')::float8) AS bbox, (k.m->>'area')::int AS area,
           jsonb_build_array(k.m->'point') AS point
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY s(masks, ord),
         jsonb_array_elements(s.masks) WITH ORDINALITY k(m, ord)`,
    [JSON.stringify(poolJson)],
  );
  // A scratch database of the bench's own: the image ids are made to match, so the per-row foreign-key
  // triggers are skipped for the load (replica mode), which more than halves its time.
  await client.query("SET session_replication_role = replica");
  const maskStarted = performance.now();
  for (let from = 0; from < masks; from += CHUNK) {
    const to = Math.min(masks, from + CHUNK) - 1;
    await client.query(
      `INSERT INTO "Mask" (id, "imageId", rle, bbox, area, "predictedIou", "stabilityScore", "pointCoords",
                           prompts, "cropBox", source, stage, status, "updatedAt")
       SELECT gen_random_uuid(), ${benchImageIdSql("(g % $1)")}, p.rle, p.bbox, p.area, 0.9, 0.95,
              p.point, '[]'::jsonb, ARRAY[]::float8[], 'auto', 'fully_automatic', 'accepted', now()
       FROM generate_series($2::bigint, $3::bigint) g
       JOIN bench_mask_pool p ON p.size_index = (g % $1) % $4 AND p.k = (g / $1) % $5`,
      [images, from, to, sizeCount, poolSize],
    );
    log(`masks: ${to + 1}/${masks}`);
  }
  await client.query("SET session_replication_role = DEFAULT");
  await client.query("DROP TABLE bench_mask_pool");
  await client.query(`ANALYZE "Image"; ANALYZE "Mask"`);
  return { imageSeconds, maskSeconds: (performance.now() - maskStarted) / 1000 };
}
