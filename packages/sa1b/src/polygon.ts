/**
 * Polygons <-> masks, in COCO's conventions.
 *
 * Coordinates: a polygon is a flat `[x1, y1, x2, y2, ...]` list in pixel units where pixel (x, y) is
 * the unit square [x, x+1] x [y, y+1], so its centre is (x + 0.5, y + 0.5).
 *
 * Polygon -> mask reproduces pycocotools' `frPyObjects` / `annToRLE` result exactly. pycocotools does
 * not fill by testing pixel centres against the exact polygon: it scales the vertices by 5 and rounds
 * them to integers, walks every edge on that 5x grid, and wherever the walked boundary passes a column
 * of pixel centres (grid x = 5 * column + 2.5) it records the crossing, rounded up to a whole row.
 * Each column is then filled between alternate crossings (even-odd rule; a polygon crossing itself
 * leaves the doubly covered part empty). Several polygons for one object are united, not XORed, so
 * COCO polygons cannot describe holes. This module implements those same rules (independently of the
 * C code) with a per-column formulation, so the work per edge is bounded by the image width however
 * far outside the image a vertex lies.
 *
 * Mask -> polygon traces the pixel edges ("cracks") around each 8-connected group of object pixels.
 * The result uses only pixel corners as vertices, with collinear points dropped, so rasterising it
 * with the rules above gives back exactly the pixels inside each outer boundary: the mask itself when
 * it has no holes (holes are filled, since COCO polygons cannot express them). An optional
 * Douglas-Peucker `tolerance` trades that exactness for fewer vertices.
 */
import type { Bbox } from "./bbox";
import { assertValidMask, type BinaryMask } from "./mask";
import { type CocoRle, countsToString, decodeRle, MAX_RLE_PIXELS, mergeRles } from "./rle";

/** A COCO polygon: flat `[x1, y1, x2, y2, ...]` in pixel coordinates (pixel (x, y) spans [x, x+1]). */
export type Polygon = number[];

/** Output size of a rasterisation; a BinaryMask can be passed as is. */
export interface ImageSize {
  width: number;
  height: number;
}

/**
 * Vertices further than this from the origin are rejected: pycocotools holds scaled coordinates in
 * 32-bit ints, so beyond this its result is undefined.
 */
export const MAX_POLYGON_COORDINATE = 2e8;

const SCALE = 5;

function checkImageSize(size: ImageSize): { width: number; height: number } {
  const { width, height } = size;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`image size must be non-negative integers, got ${width}x${height}`);
  }
  if (width * height > MAX_RLE_PIXELS) {
    throw new RangeError(`image ${width}x${height} has more than ${MAX_RLE_PIXELS} pixels`);
  }
  return { width, height };
}

function checkPolygon(polygon: readonly number[], index?: number): void {
  const which = index === undefined ? "polygon" : `polygon #${index}`;
  if (!Array.isArray(polygon)) throw new RangeError(`${which} must be an array of numbers`);
  if (polygon.length % 2 !== 0) {
    throw new RangeError(`${which} has an odd number of coordinates (${polygon.length}); expected x,y pairs`);
  }
  for (let i = 0; i < polygon.length; i++) {
    const v = polygon[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${which} coordinate #${i} is not a finite number: ${String(v)}`);
    }
    if (Math.abs(v) > MAX_POLYGON_COORDINATE) {
      throw new RangeError(`${which} coordinate #${i} (${v}) is beyond +-${MAX_POLYGON_COORDINATE}`);
    }
  }
}

/**
 * Column-major run lengths of one polygon rasterised as pycocotools' `rleFrPoly` does.
 *
 * On the 5x grid an edge is walked one step at a time along its longer axis, the other coordinate
 * being rounded (`trunc(start + slope * t + 0.5)`, with the walk always taken from the endpoint with
 * the smaller coordinate along the longer axis, so both directions round alike). Every time the walk
 * steps from grid column X to X+1 (or back) with X = 5c + 2 for an image column c, pixel column c gets
 * a crossing at row ceil((Y + 0.5) / 5 - 0.5), clamped to [0, height], where Y is the smaller grid y
 * of the two points. Only those steps matter, so instead of walking every grid point this visits the
 * image columns an edge spans, finding the step directly (long axis x) or by bisection (long axis y;
 * the rounded x is monotonic along the walk and changes by at most 1 per step).
 */
function polygonRuns(polygon: readonly number[], height: number, width: number): number[] {
  const n = height * width;
  const k = polygon.length / 2;
  if (k === 0 || n === 0) return [n];
  const gx = new Array<number>(k);
  const gy = new Array<number>(k);
  for (let j = 0; j < k; j++) {
    gx[j] = Math.trunc(SCALE * polygon[2 * j]! + 0.5);
    gy[j] = Math.trunc(SCALE * polygon[2 * j + 1]! + 0.5);
  }
  const lastColumn = width - 1;
  const toggles: number[] = [];
  const addCrossing = (gridX: number, gridY: number): void => {
    // gridX is always 5c + 2 here; the float form is kept identical to the reference for safety.
    const column = (gridX + 0.5) / SCALE - 0.5;
    if (Math.floor(column) !== column || column < 0 || column > lastColumn) return;
    let row = (gridY + 0.5) / SCALE - 0.5;
    if (row < 0) row = 0;
    else if (row > height) row = height;
    toggles.push(column * height + Math.ceil(row));
  };
  // Grid x values 5c + 2 for image columns c whose crossing step can lie in [lo, hi - 1].
  const firstColumnFrom = (lo: number): number => Math.max(0, Math.ceil((lo - 2) / SCALE));
  const lastColumnTo = (hi: number): number => Math.min(lastColumn, Math.floor((hi - 1 - 2) / SCALE));

  for (let j = 0; j < k; j++) {
    const next = j + 1 === k ? 0 : j + 1;
    let x0 = gx[j]!;
    let y0 = gy[j]!;
    let x1 = gx[next]!;
    let y1 = gy[next]!;
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y1 - y0);
    if (dx >= dy) {
      if (dx === 0) continue; // a repeated vertex: no step between columns
      if (x0 > x1) {
        [x0, x1] = [x1, x0];
        [y0, y1] = [y1, y0];
      }
      // Walk t = 0..dx: grid x = x0 + t, grid y = trunc(y0 + s*t + 0.5). The step t-1 -> t goes from
      // grid column x0 + t - 1 to x0 + t.
      const s = (y1 - y0) / dx;
      const c1 = lastColumnTo(x1);
      for (let c = firstColumnFrom(x0); c <= c1; c++) {
        const gridX = SCALE * c + 2;
        const t = gridX - x0 + 1;
        const ya = Math.trunc(y0 + s * (t - 1) + 0.5);
        const yb = Math.trunc(y0 + s * t + 0.5);
        addCrossing(gridX, Math.min(ya, yb));
      }
    } else {
      if (y0 > y1) {
        [x0, x1] = [x1, x0];
        [y0, y1] = [y1, y0];
      }
      // Walk t = 0..dy: grid y = y0 + t, grid x = trunc(x0 + s*t + 0.5), |s| < 1.
      const s = (x1 - x0) / dy;
      const xAt = (t: number): number => Math.trunc(x0 + s * t + 0.5);
      const xStart = xAt(0);
      const xEnd = xAt(dy);
      if (xStart === xEnd) continue;
      const rising = xEnd > xStart;
      const lo = rising ? xStart : xEnd;
      const hi = rising ? xEnd : xStart;
      const c1 = lastColumnTo(hi);
      for (let c = firstColumnFrom(lo); c <= c1; c++) {
        const gridX = SCALE * c + 2;
        // First t at which x has moved past gridX (to gridX + 1 rising, to gridX falling).
        let a = 1;
        let b = dy;
        while (a < b) {
          const mid = a + Math.floor((b - a) / 2);
          const x = xAt(mid);
          if (rising ? x > gridX : x <= gridX) b = mid;
          else a = mid + 1;
        }
        addCrossing(gridX, y0 + a - 1);
      }
    }
  }

  // Fill between alternate crossings along the column-major order. Crossings at the same index cancel
  // in pairs; a crossing at index n (bottom of the last column) just ends the mask.
  const sorted = Float64Array.from(toggles).sort();
  const counts: number[] = [];
  let runStart = 0;
  let i = 0;
  while (i < sorted.length) {
    const p = sorted[i]!;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === p) j++;
    if (((j - i) & 1) === 1 && p < n) {
      counts.push(p - runStart);
      runStart = p;
    }
    i = j;
  }
  counts.push(n - runStart);
  return counts;
}

/** Rasterises one polygon to compressed RLE, as pycocotools `frPyObjects([polygon], h, w)[0]`. */
export function polygonToRle(polygon: readonly number[], size: ImageSize): CocoRle {
  const { width, height } = checkImageSize(size);
  checkPolygon(polygon);
  return { size: [height, width], counts: countsToString(polygonRuns(polygon, height, width)) };
}

/**
 * Rasterises the polygons of one object and unites them, as pycocotools `annToRLE` does for a
 * polygon segmentation. No polygons give an empty mask.
 */
export function polygonsToRle(polygons: readonly (readonly number[])[], size: ImageSize): CocoRle {
  const { width, height } = checkImageSize(size);
  if (!Array.isArray(polygons)) throw new RangeError("polygons must be an array of polygons");
  polygons.forEach((polygon, i) => {
    checkPolygon(polygon, i);
  });
  if (polygons.length === 0) return { size: [height, width], counts: countsToString([height * width]) };
  return mergeRles(
    polygons.map((polygon) => ({
      size: [height, width] as const,
      counts: polygonRuns(polygon, height, width),
    })),
    "union",
  );
}

/** `polygonsToRle`, decoded to a row-major mask. */
export function polygonsToMask(polygons: readonly (readonly number[])[], size: ImageSize): BinaryMask {
  return decodeRle(polygonsToRle(polygons, size));
}

/** A box as an RLE, as pycocotools `frPyObjects` does for `[x, y, w, h]` boxes (rasterised as a polygon). */
export function bboxToRle(bbox: Bbox, size: ImageSize): CocoRle {
  const [x, y, w, h] = bbox;
  return polygonToRle([x, y, x, y + h, x + w, y + h, x + w, y], size);
}

export interface MaskToPolygonsOptions {
  /**
   * Douglas-Peucker tolerance in pixels. 0 (the default) keeps every corner, so the polygons give the
   * mask back exactly (holes aside); around 0.5-1 typically removes most vertices of curved outlines.
   */
  tolerance?: number;
}

// Directions on the pixel-corner grid (y down), in clockwise order: E, S, W, N.
const DIR_X = [1, 0, -1, 0] as const;
const DIR_Y = [0, 1, 0, -1] as const;
// Pixels ahead-left and ahead-right of a corner, relative to it, for each direction of travel.
const AHEAD_LEFT_X = [0, 0, -1, -1] as const;
const AHEAD_LEFT_Y = [-1, 0, 0, -1] as const;
const AHEAD_RIGHT_X = [0, -1, -1, 0] as const;
const AHEAD_RIGHT_Y = [0, 0, -1, -1] as const;

/**
 * Outer boundaries of the mask's 8-connected components as COCO polygons (vertices at pixel corners,
 * clockwise on screen, first vertex at the component's top-left-most corner, in the order the
 * components are met scanning rows top to bottom). Where pixels touch only diagonally the outline
 * passes through that corner twice. Holes are not returned — COCO polygons of one object are united,
 * so a hole cannot be expressed; use RLE when holes matter.
 */
export function maskToPolygons(mask: BinaryMask, options: MaskToPolygonsOptions = {}): Polygon[] {
  assertValidMask(mask);
  const tolerance = options.tolerance ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new RangeError(`tolerance must be a non-negative number, got ${tolerance}`);
  }
  const { width, height, data } = mask;
  const at = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] !== 0;
  // The boundary is walked with the object on the right. Every boundary loop has an eastward edge
  // along the top of some object pixel whose upper neighbour is background; those edges are the
  // starting points, and marking them as walked keeps each loop from being traced twice.
  const walked = new Uint8Array(width * height);
  const polygons: Polygon[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (data[i] === 0 || walked[i] === 1 || (y > 0 && data[i - width] !== 0)) continue;
      const ring: number[] = [];
      let cx = x + 1;
      let cy = y;
      let dir = 0;
      walked[i] = 1;
      for (;;) {
        // Turn left when the pixel ahead-left is object (this also joins diagonal neighbours, making
        // components 8-connected), go straight along object ahead-right, else turn right.
        let next: number;
        if (at(cx + AHEAD_LEFT_X[dir]!, cy + AHEAD_LEFT_Y[dir]!)) next = (dir + 3) & 3;
        else if (at(cx + AHEAD_RIGHT_X[dir]!, cy + AHEAD_RIGHT_Y[dir]!)) next = dir;
        else next = (dir + 1) & 3;
        if (next !== dir) ring.push(cx, cy);
        if (next === 0) {
          if (cx === x && cy === y) break;
          walked[cy * width + cx] = 1;
        }
        dir = next;
        cx += DIR_X[dir]!;
        cy += DIR_Y[dir]!;
      }
      // Clockwise on screen (positive shoelace sum with y down) is an outer boundary; the others are
      // holes, walked anticlockwise.
      if (signedArea(ring) > 0) polygons.push(rotateToTopLeft(simplifyRing(ring, tolerance)));
    }
  }
  return polygons;
}

function signedArea(ring: readonly number[]): number {
  let sum = 0;
  const m = ring.length;
  for (let i = 0; i < m; i += 2) {
    const j = (i + 2) % m;
    sum += ring[i]! * ring[j + 1]! - ring[j]! * ring[i + 1]!;
  }
  return sum / 2;
}

/** Starts the ring at its top-most, then left-most vertex, so the output does not depend on the walk. */
function rotateToTopLeft(ring: number[]): number[] {
  let best = 0;
  for (let i = 2; i < ring.length; i += 2) {
    const y = ring[i + 1]!;
    const by = ring[best + 1]!;
    if (y < by || (y === by && ring[i]! < ring[best]!)) best = i;
  }
  return best === 0 ? ring : [...ring.slice(best), ...ring.slice(0, best)];
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const len2 = vx * vx + vy * vy;
  let t = len2 === 0 ? 0 : ((px - ax) * vx + (py - ay) * vy) / len2;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  return Math.hypot(px - (ax + t * vx), py - (ay + t * vy));
}

/** Douglas-Peucker on a closed ring; returns the ring unchanged if it would drop below 3 vertices. */
function simplifyRing(ring: number[], tolerance: number): number[] {
  const m = ring.length / 2;
  if (tolerance <= 0 || m <= 3) return ring;
  // Split the ring at vertex 0 and the vertex farthest from it, then simplify both halves.
  let far = 0;
  let farDist = -1;
  for (let i = 1; i < m; i++) {
    const d = Math.hypot(ring[2 * i]! - ring[0]!, ring[2 * i + 1]! - ring[1]!);
    if (d > farDist) {
      farDist = d;
      far = i;
    }
  }
  const keep = new Uint8Array(m + 1);
  keep[0] = 1;
  keep[far] = 1;
  keep[m] = 1; // index m is vertex 0 again, closing the ring
  const px = (i: number): number => ring[2 * (i % m)]!;
  const py = (i: number): number => ring[2 * (i % m) + 1]!;
  const stack: [number, number][] = [
    [0, far],
    [far, m],
  ];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    let worst = -1;
    let worstDist = tolerance;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance(px(i), py(i), px(a), py(a), px(b), py(b));
      if (d > worstDist) {
        worstDist = d;
        worst = i;
      }
    }
    if (worst >= 0) {
      keep[worst] = 1;
      stack.push([a, worst], [worst, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < m; i++) if (keep[i] === 1) out.push(ring[2 * i]!, ring[2 * i + 1]!);
  return out.length >= 6 ? out : ring;
}
