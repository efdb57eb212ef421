import { describe, expect, it } from "vitest";
import { maskIoU } from "./iou";
import { type BinaryMask, createMask } from "./mask";
import { bboxToRle, maskToPolygons, polygonsToMask, polygonsToRle, polygonToRle } from "./polygon";
import { countsFromString, decodeRle, encodeMask, rleArea } from "./rle";
import {
  blobMask,
  firstDifference,
  maskFromRows,
  noiseMask,
  pixelCount,
  randomInt,
  rectMask,
  seededRandom,
} from "./test-utils";

/**
 * Test oracle: pycocotools' polygon rasterisation done the literal way — every point of every edge
 * walked on the 5x grid, crossings collected from consecutive points, then sorted, differenced and
 * zero-length differences folded in pairs. polygon.ts computes the same thing per image column;
 * this checks the two agree.
 */
function literalFrPoly(xy: readonly number[], h: number, w: number): number[] {
  const k = xy.length / 2;
  const gx: number[] = [];
  const gy: number[] = [];
  for (let j = 0; j < k; j++) {
    gx.push(Math.trunc(5 * xy[2 * j]! + 0.5));
    gy.push(Math.trunc(5 * xy[2 * j + 1]! + 0.5));
  }
  gx.push(gx[0]!);
  gy.push(gy[0]!);
  const us: number[] = [];
  const vs: number[] = [];
  for (let j = 0; j < k; j++) {
    let xa = gx[j]!;
    let xb = gx[j + 1]!;
    let ya = gy[j]!;
    let yb = gy[j + 1]!;
    const dx = Math.abs(xb - xa);
    const dy = Math.abs(yb - ya);
    const reversed = (dx >= dy && xa > xb) || (dx < dy && ya > yb);
    if (reversed) {
      [xa, xb] = [xb, xa];
      [ya, yb] = [yb, ya];
    }
    if (dx >= dy) {
      // dx = dy = 0 is a single point whose x equals its neighbours', so its y never matters.
      const s = dx === 0 ? 0 : (yb - ya) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = reversed ? dx - d : d;
        us.push(xa + t);
        vs.push(Math.trunc(ya + s * t + 0.5));
      }
    } else {
      const s = (xb - xa) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = reversed ? dy - d : d;
        vs.push(ya + t);
        us.push(Math.trunc(xa + s * t + 0.5));
      }
    }
  }
  const positions: number[] = [];
  for (let j = 1; j < us.length; j++) {
    const u = us[j]!;
    const up = us[j - 1]!;
    if (u === up) continue;
    const column = ((u < up ? u : u - 1) + 0.5) / 5 - 0.5;
    if (Math.floor(column) !== column || column < 0 || column > w - 1) continue;
    let row = (Math.min(vs[j]!, vs[j - 1]!) + 0.5) / 5 - 0.5;
    row = Math.min(Math.max(row, 0), h);
    positions.push(column * h + Math.ceil(row));
  }
  positions.push(h * w);
  positions.sort((a, b) => a - b);
  const diffs = positions.map((p, i) => p - (i === 0 ? 0 : positions[i - 1]!));
  const out: number[] = [diffs[0]!];
  for (let j = 1; j < diffs.length; ) {
    if (diffs[j]! > 0) {
      out.push(diffs[j++]!);
    } else {
      j++;
      if (j < diffs.length) out[out.length - 1] = out[out.length - 1]! + diffs[j++]!;
    }
  }
  return out;
}

/** The mask with every background region not 4-connected to the border filled in. */
function fillHoles(mask: BinaryMask): BinaryMask {
  const { width, height, data } = mask;
  const outside = new Uint8Array(width * height);
  const stack: number[] = [];
  const push = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = y * width + x;
    if (data[i] !== 0 || outside[i] === 1) return;
    outside[i] = 1;
    stack.push(i);
  };
  for (let x = 0; x < width; x++) {
    push(x, 0);
    push(x, height - 1);
  }
  for (let y = 0; y < height; y++) {
    push(0, y);
    push(width - 1, y);
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    push(x + 1, y);
    push(x - 1, y);
    push(x, y + 1);
    push(x, y - 1);
  }
  const filled = createMask(width, height);
  for (let i = 0; i < filled.data.length; i++) filled.data[i] = outside[i] === 1 ? 0 : 1;
  return filled;
}

function vertexCount(polygons: readonly number[][]): number {
  return polygons.reduce((n, p) => n + p.length / 2, 0);
}

describe("polygon -> RLE matches published pycocotools output (twsl/pytorchcocotools test_fr_py_objects.py)", () => {
  it("rasterises a small polygon", () => {
    const rle = polygonsToRle([[10, 10, 20, 10, 20, 20, 21, 21, 10, 20]], { width: 25, height: 25 });
    expect(rle).toEqual({ size: [25, 25], counts: "T8:?00000000001O00000:F`2" });
  });

  it("rasterises a bbox", () => {
    expect(bboxToRle([10, 10, 10, 10], { width: 25, height: 25 })).toEqual({
      size: [25, 25],
      counts: "T8:?00000000000000000c3",
    });
  });

  it("rasterises real COCO polygons with fractional coordinates", () => {
    const size = { width: 640, height: 427 };
    const first = [
      266.83, 189.37, 267.79, 175.29, 269.46, 170.04, 271.37, 165.98, 270.89, 163.12, 269.12, 159.54, 272.8,
      156.44, 287.36, 156.44, 293.33, 157.87, 296.91, 160.49, 296.91, 161.21, 291.89, 161.92, 289.98, 165.03,
      291.42, 169.56, 285.16, 196.54,
    ];
    const second = [
      266.35, 214.44, 270.41, 217.3, 276.38, 218.97, 282.11, 218.97, 285.93, 217.3, 286.88, 207.28, 267.07,
      201.07,
    ];
    expect(polygonToRle(first, size).counts).toBe(
      "\\`_3;j<6B@nCc0Q<@kCc0S<;01N10001O001O00001O001O0000O1L4K6K4L4B]COh<O<O001O0O2Omk^4",
    );
    expect(polygonToRle(second, size).counts).toBe("RT_32n<<O100O0010O000010O0001O00001O000O101O0ISPc4");
    expect(countsFromString(polygonToRle(first, size).counts)).toEqual(literalFrPoly(first, 427, 640));
    // annToRLE unites the polygons of one annotation.
    const union = decodeRle(polygonsToRle([first, second], size));
    const a = decodeRle(polygonToRle(first, size));
    const b = decodeRle(polygonToRle(second, size));
    expect(pixelCount(union)).toBe(pixelCount(a) + pixelCount(b)); // they don't overlap
  });
});

describe("polygon -> RLE agrees with the literal rasterisation", () => {
  it("on random polygons, including vertices outside the image and repeated vertices", () => {
    const rng = seededRandom(77);
    let nonEmpty = 0;
    for (let trial = 0; trial < 400; trial++) {
      const width = randomInt(rng, 1, 40);
      const height = randomInt(rng, 1, 40);
      const k = randomInt(rng, 1, 12);
      const spread = trial % 4 === 0 ? 3 : 1.3;
      const xy: number[] = [];
      for (let j = 0; j < k; j++) {
        const integer = rng() < 0.3;
        const x = (rng() * spread - (spread - 1) / 2) * width;
        const y = (rng() * spread - (spread - 1) / 2) * height;
        xy.push(integer ? Math.round(x) : x, integer ? Math.round(y) : y);
        if (rng() < 0.1) xy.push(xy[xy.length - 2]!, xy[xy.length - 1]!);
      }
      const counts = countsFromString(polygonToRle(xy, { width, height }).counts);
      expect(counts).toEqual(literalFrPoly(xy, height, width));
      if (counts.length > 1) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(250);
  });

  it("stays fast and correct with vertices far outside the image", () => {
    const size = { width: 50, height: 40 };
    const huge = 1e8;
    const full = polygonToRle([-huge, -huge, huge, -huge, huge, huge, -huge, huge], size);
    expect(full.counts).toBe(encodeMask(rectMask(50, 40, 0, 0, 50, 40)).counts);
    // A long slanted sliver, left side from x = 10.3 to 10.9 and right side from 11.7 to 12.3 over
    // y = -1e8 .. 1e8: inside the image its sides are at about 10.6 and 12.0, so only column 11's
    // centre (11.5) is inside. The steep sides take the bisection path.
    const sliver = decodeRle(polygonToRle([10.3, -huge, 11.7, -huge, 12.3, huge, 10.9, huge], size));
    expect(pixelCount(sliver)).toBe(40);
    expect(sliver.data[5 * 50 + 10]).toBe(0);
    expect(sliver.data[5 * 50 + 11]).toBe(1);
    expect(sliver.data[5 * 50 + 12]).toBe(0);
  });
});

describe("polygon -> mask semantics", () => {
  it("fills axis-aligned rectangles exactly (pixel (x, y) spans [x, x+1])", () => {
    const mask = polygonsToMask([[2, 1, 6, 1, 6, 4, 2, 4]], { width: 8, height: 6 });
    expect(firstDifference(mask, rectMask(8, 6, 2, 1, 6, 4))).toBe(-1);
  });

  it("uses the even-odd rule within one polygon but unites separate polygons", () => {
    // A five-pointed star drawn as one self-crossing polygon: its centre pentagon is covered twice
    // and so left empty, while the points are filled.
    const star: number[] = [];
    for (let i = 0; i < 5; i++) {
      const angle = -Math.PI / 2 + (i * 4 * Math.PI) / 5;
      star.push(50 + 45 * Math.cos(angle), 50 + 45 * Math.sin(angle));
    }
    const mask = polygonsToMask([star], { width: 100, height: 100 });
    expect(mask.data[50 * 100 + 50]).toBe(0);
    expect(mask.data[12 * 100 + 50]).toBe(1); // the top point
    // Two overlapping squares as separate polygons: the overlap is filled.
    const squares = polygonsToMask(
      [
        [0, 0, 6, 0, 6, 6, 0, 6],
        [3, 3, 9, 3, 9, 9, 3, 9],
      ],
      { width: 10, height: 10 },
    );
    expect(pixelCount(squares)).toBe(36 + 36 - 9);
    expect(squares.data[4 * 10 + 4]).toBe(1);
  });

  it("clips polygons to the image", () => {
    const full = polygonsToRle([[-5, -5, 105, -5, 105, 105, -5, 105]], { width: 100, height: 80 });
    expect(rleArea(full)).toBe(8000);
    const outside = polygonsToRle([[200, 200, 300, 200, 300, 300]], { width: 100, height: 80 });
    expect(rleArea(outside)).toBe(0);
  });

  it("gives an empty mask for no polygons or a degenerate one", () => {
    expect(polygonsToRle([], { width: 4, height: 3 })).toEqual({ size: [3, 4], counts: "<" });
    expect(rleArea(polygonsToRle([[1, 1, 3, 2]], { width: 4, height: 3 }))).toBe(0);
    expect(rleArea(polygonToRle([], { width: 4, height: 3 }))).toBe(0);
    expect(polygonToRle([1, 1], { width: 0, height: 0 })).toEqual({ size: [0, 0], counts: "0" });
  });

  it("rejects malformed polygons and sizes", () => {
    const size = { width: 10, height: 10 };
    expect(() => polygonToRle([1, 2, 3], size)).toThrow(/odd number of coordinates \(3\)/);
    expect(() => polygonToRle([1, 2, 3, Number.NaN, 4, 4], size)).toThrow(
      /coordinate #3 is not a finite number/,
    );
    expect(() =>
      polygonsToRle(
        [
          [0, 0, 1, 0, 1, 1],
          [0, 0, 1],
        ],
        size,
      ),
    ).toThrow(/polygon #1 has an odd number/);
    expect(() => polygonToRle([0, 0, 3e8, 0, 0, 1], size)).toThrow(/beyond/);
    expect(() => polygonToRle([0, 0, 1, 0, 1, 1], { width: -1, height: 10 })).toThrow(/image size/);
    expect(() => polygonToRle([0, 0, 1, 0, 1, 1], { width: 2.5, height: 10 })).toThrow(/image size/);
  });
});

describe("mask -> polygons", () => {
  it("outlines a single pixel by its corners, clockwise from the top-left", () => {
    const mask = createMask(5, 4);
    mask.data[1 * 5 + 2] = 1;
    expect(maskToPolygons(mask)).toEqual([[2, 1, 3, 1, 3, 2, 2, 2]]);
  });

  it("gives exactly four corners for axis-aligned rectangles, and rasterises back exactly", () => {
    const rng = seededRandom(11);
    for (let trial = 0; trial < 100; trial++) {
      const width = randomInt(rng, 1, 30);
      const height = randomInt(rng, 1, 30);
      const x0 = randomInt(rng, 0, width - 1);
      const y0 = randomInt(rng, 0, height - 1);
      const x1 = randomInt(rng, x0 + 1, width);
      const y1 = randomInt(rng, y0 + 1, height);
      const mask = rectMask(width, height, x0, y0, x1, y1);
      const polygons = maskToPolygons(mask);
      expect(polygons).toEqual([[x0, y0, x1, y0, x1, y1, x0, y1]]);
      expect(polygonsToRle(polygons, mask)).toEqual(encodeMask(mask));
    }
  });

  it("traces an L shape with six corners", () => {
    const mask = maskFromRows(["#...", "#...", "###."]);
    expect(maskToPolygons(mask)).toEqual([[0, 0, 1, 0, 1, 2, 3, 2, 3, 3, 0, 3]]);
  });

  it("joins diagonal neighbours into one outline (8-connectivity) that still rasterises exactly", () => {
    const mask = maskFromRows(["#..", ".#.", "..."]);
    const polygons = maskToPolygons(mask);
    expect(polygons).toEqual([[0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 1, 2, 1, 1, 0, 1]]);
    expect(firstDifference(polygonsToMask(polygons, mask), mask)).toBe(-1);
  });

  it("returns one polygon per component, in row-scan order", () => {
    const mask = maskFromRows(["..##", "....", "#...", "#..#"]);
    expect(maskToPolygons(mask)).toEqual([
      [2, 0, 4, 0, 4, 1, 2, 1],
      [0, 2, 1, 2, 1, 4, 0, 4],
      [3, 3, 4, 3, 4, 4, 3, 4],
    ]);
  });

  it("drops holes (COCO polygons cannot express them): a ring comes back filled", () => {
    const ring = maskFromRows(["#####", "#...#", "#.#.#", "#...#", "#####"]);
    const polygons = maskToPolygons(ring);
    // The outer boundary, and the island inside the hole as its own component.
    expect(polygons).toEqual([
      [0, 0, 5, 0, 5, 5, 0, 5],
      [2, 2, 3, 2, 3, 3, 2, 3],
    ]);
    expect(rleArea(polygonsToRle(polygons, ring))).toBe(25);
  });

  it("returns nothing for empty masks", () => {
    expect(maskToPolygons(createMask(6, 6))).toEqual([]);
    expect(maskToPolygons(createMask(0, 0))).toEqual([]);
  });

  it("round-trips random blobs and noise exactly, up to filled holes", () => {
    const rng = seededRandom(4242);
    let minIoU = 1;
    for (let trial = 0; trial < 60; trial++) {
      const width = randomInt(rng, 1, 70);
      const height = randomInt(rng, 1, 70);
      const mask =
        trial % 3 === 0
          ? noiseMask(rng, width, height, 0.1 + 0.8 * rng())
          : blobMask(rng, width, height, randomInt(rng, 1, 5));
      const polygons = maskToPolygons(mask);
      const back = polygonsToMask(polygons, mask);
      const filled = fillHoles(mask);
      expect(firstDifference(back, filled)).toBe(-1);
      if (trial % 3 !== 0 && pixelCount(mask) > 0) {
        minIoU = Math.min(minIoU, maskIoU(back, mask));
      }
    }
    expect(minIoU).toBeGreaterThan(0.9);
  });

  it("simplifies with a tolerance while keeping IoU above 0.9 on blobby shapes", () => {
    const rng = seededRandom(99);
    for (let trial = 0; trial < 25; trial++) {
      const width = randomInt(rng, 60, 160);
      const height = randomInt(rng, 60, 160);
      const mask = blobMask(rng, width, height, randomInt(rng, 1, 4));
      if (pixelCount(mask) < 200) continue;
      const exact = maskToPolygons(mask);
      const simple = maskToPolygons(mask, { tolerance: 1 });
      expect(simple).toHaveLength(exact.length);
      expect(vertexCount(simple)).toBeLessThanOrEqual(vertexCount(exact));
      const back = polygonsToMask(simple, mask);
      expect(maskIoU(back, fillHoles(mask))).toBeGreaterThan(0.9);
    }
    // A large disc: exact outline has many stair-step corners; simplified has far fewer.
    const disc = createMask(200, 200);
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 200; x++) {
        if ((x + 0.5 - 100) ** 2 + (y + 0.5 - 100) ** 2 <= 80 ** 2) disc.data[y * 200 + x] = 1;
      }
    }
    const exact = maskToPolygons(disc);
    const simple = maskToPolygons(disc, { tolerance: 1 });
    expect(vertexCount(simple)).toBeLessThan(vertexCount(exact) / 4);
    expect(maskIoU(polygonsToMask(simple, disc), disc)).toBeGreaterThan(0.98);
  });

  it("rejects a negative tolerance", () => {
    expect(() => maskToPolygons(createMask(2, 2), { tolerance: -1 })).toThrow(/tolerance/);
  });
});
