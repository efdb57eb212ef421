import { describe, expect, it } from "vitest";
import { maskToBbox } from "./bbox";
import { type BinaryMask, createMask } from "./mask";
import {
  assertValidRle,
  type CocoRle,
  countsFromString,
  countsToString,
  decodeRle,
  encodeMask,
  mergeRles,
  RleError,
  type RleInput,
  rleArea,
  rleFromCounts,
  rleToBbox,
  toCocoRle,
  toUncompressedRle,
} from "./rle";
import {
  firstDifference,
  maskFromRows,
  noiseMask,
  pixelCount,
  randomInt,
  rectMask,
  seededRandom,
} from "./test-utils";

function withPixels(width: number, height: number, pixels: readonly [number, number][]): BinaryMask {
  const mask = createMask(width, height);
  for (const [x, y] of pixels) mask.data[y * width + x] = 1;
  return mask;
}

/** pycocotools-style square: mask[lo:hi, lo:hi] = 1 on a 25x25 image. */
function square25(lo: number, hi: number): BinaryMask {
  return rectMask(25, 25, lo, lo, hi, hi);
}

function expectRleError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RleError);
  expect((thrown as RleError).name).toBe("RleError");
  expect((thrown as RleError).message).toMatch(message);
}

/*
 * Hand-worked expected strings. Runs are counted down each column in turn (index = x * height + y),
 * starting with zeros. Each count c (or, from index 3 on, c - counts[i-2]) is written in 5-bit groups,
 * low group first: group g = value & 31, value >>= 5 (arithmetic); another group follows unless the
 * rest is 0 (g < 16) or -1 (g >= 16, sign bit set); groups that are followed get +32; char = 48 + group.
 * So 0..15 are the single characters '0'..'?', -16..-1 are '@'..'O', and e.g.
 *   16  -> g=16 rest=0 (sign bit set, rest != -1, so continue) -> 16+32 -> '`', then g=0 -> '0'   => "`0"
 *   32  -> g=0 rest=1 -> 0+32 -> 'P', then g=1 -> '1'                                           => "P1"
 *   -1  -> g=31 rest=-1 -> stop -> 31 -> 'O'                                                    => "O"
 */
describe("encodeMask / decodeRle against hand-derived pycocotools strings", () => {
  const cases: { name: string; mask: BinaryMask; counts: number[]; string: string }[] = [
    // pycocotools' rleEncode always emits the final run, so a 0-pixel mask is counts [0] -> "0".
    { name: "0x0", mask: createMask(0, 0), counts: [0], string: "0" },
    { name: "width 0", mask: createMask(0, 4), counts: [0], string: "0" },
    { name: "height 0", mask: createMask(4, 0), counts: [0], string: "0" },
    // 1x1: [1] -> "1"; full: [0, 1] -> "01".
    { name: "1x1 empty", mask: createMask(1, 1), counts: [1], string: "1" },
    { name: "1x1 full", mask: withPixels(1, 1, [[0, 0]]), counts: [0, 1], string: "01" },
    // 3 high, 5 wide, empty: [15] -> 15 = '?'.
    { name: "3x5 empty", mask: createMask(5, 3), counts: [15], string: "?" },
    // full: [0, 15] -> "0?".
    { name: "3x5 full", mask: rectMask(5, 3, 0, 0, 5, 3), counts: [0, 15], string: "0?" },
    // Single pixels in a 3-high, 5-wide mask; column-major index = x * 3 + y.
    // (0,0): index 0 -> [0, 1, 14] -> '0' '1' '>'(14).
    { name: "3x5 pixel top-left", mask: withPixels(5, 3, [[0, 0]]), counts: [0, 1, 14], string: "01>" },
    // (4,2): index 14 -> [14, 1] -> '>' '1'.
    { name: "3x5 pixel bottom-right", mask: withPixels(5, 3, [[4, 2]]), counts: [14, 1], string: ">1" },
    // (4,0): index 12 -> [12, 1, 2] -> '<' '1' '2'.
    { name: "3x5 pixel top-right", mask: withPixels(5, 3, [[4, 0]]), counts: [12, 1, 2], string: "<12" },
    // (0,2): index 2 -> [2, 1, 12] -> '2' '1' '<'.
    { name: "3x5 pixel bottom-left", mask: withPixels(5, 3, [[0, 2]]), counts: [2, 1, 12], string: "21<" },
    // (2,1): index 7 -> [7, 1, 7] -> "717".
    { name: "3x5 pixel centre", mask: withPixels(5, 3, [[2, 1]]), counts: [7, 1, 7], string: "717" },
    // 5 high, 3 wide, pixel (1,3): index 1*5+3 = 8 -> [8, 1, 6] -> "816".
    { name: "5x3 pixel", mask: withPixels(3, 5, [[1, 3]]), counts: [8, 1, 6], string: "816" },
    // Top row of a 3-high, 5-wide mask: indices 0,3,6,9,12 -> [0,1,2,1,2,1,2,1,2,1,2]; from index 3
    // every delta (1-1, 2-2) is 0 -> "012" + eight '0'.
    {
      name: "3x5 top row",
      mask: rectMask(5, 3, 0, 0, 5, 1),
      counts: [0, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2],
      string: "01200000000",
    },
    // Top row of a 5-high, 3-wide mask: indices 0,5,10 -> [0,1,4,1,4,1,4] -> "014" + "0000".
    {
      name: "5x3 top row",
      mask: rectMask(3, 5, 0, 0, 3, 1),
      counts: [0, 1, 4, 1, 4, 1, 4],
      string: "0140000",
    },
    // Two corners of a 3-high, 5-wide mask, (0,0) and (4,2): [0, 1, 13, 1]; count #3 is 1 - 1 = 0.
    {
      name: "3x5 two corners",
      mask: withPixels(5, 3, [
        [0, 0],
        [4, 2],
      ]),
      counts: [0, 1, 13, 1],
      string: "01=0",
    },
    // 1 high, 7 wide .##...# : [1, 2, 3, 1]; #3 is 1 - 2 = -1 -> 'O'.
    {
      name: "1x7 row",
      mask: maskFromRows([".##...#"]),
      counts: [1, 2, 3, 1],
      string: "123O",
    },
    // The same pixels as a 7-high column give the same column-major sequence and string.
    {
      name: "7x1 column",
      mask: maskFromRows([".", "#", "#", ".", ".", ".", "#"]),
      counts: [1, 2, 3, 1],
      string: "123O",
    },
    // 2 high, 8 wide, empty: [16]: g=16 has the sign bit, rest 0 != -1, so it continues: '`' then '0'.
    { name: "2x8 empty (16)", mask: createMask(8, 2), counts: [16], string: "`0" },
    // 4 high, 8 wide, full: [0, 32]: 32 -> 'P' '1'.
    { name: "4x8 full (32)", mask: rectMask(8, 4, 0, 0, 8, 4), counts: [0, 32], string: "0P1" },
    // 32x32 full: [0, 1024]; 1024 -> g=0 'P', g=0 'P', g=1 '1'.
    { name: "32x32 full (1024)", mask: rectMask(32, 32, 0, 0, 32, 32), counts: [0, 1024], string: "0PP1" },
    // 10 high, 30 wide: columns 0-14 set, 15 clear, 16-20 set, 21-29 clear -> [0, 150, 10, 50, 90].
    //   150 = 4*32 + 22: g=22 (sign bit, rest 4) -> 22+32+48 = 'f', then '4'       => "f4"
    //   10 -> ':'
    //   #3: 50 - 150 = -100: g = -100 & 31 = 28, rest -4 (!= -1) -> 28+32+48 = 'l';
    //       g = -4 & 31 = 28, rest -1, sign bit set -> stop -> 28+48 = 'L'      => "lL"
    //   #4: 90 - 10 = 80 = 2*32 + 16: g=16 (sign bit, rest 2) -> '`', then '2'  => "`2"
    {
      name: "10x30 negative multi-group delta",
      mask: (() => {
        const m = rectMask(30, 10, 0, 0, 15, 10);
        for (let y = 0; y < 10; y++) for (let x = 16; x < 21; x++) m.data[y * 30 + x] = 1;
        return m;
      })(),
      counts: [0, 150, 10, 50, 90],
      string: "0f4:lL`2",
    },
  ];

  for (const c of cases) {
    it(`${c.name} -> ${JSON.stringify(c.string)}`, () => {
      const rle = encodeMask(c.mask);
      expect(rle).toEqual({ size: [c.mask.height, c.mask.width], counts: c.string });
      expect(countsFromString(c.string)).toEqual(c.counts);
      expect(countsToString(c.counts)).toBe(c.string);
      const back = decodeRle(rle);
      expect(back.width).toBe(c.mask.width);
      expect(back.height).toBe(c.mask.height);
      expect(Array.from(back.data)).toEqual(Array.from(c.mask.data));
    });
  }

  it("1000x1000 rectangle: multi-group counts and a long run of zero deltas", () => {
    // Columns 100..599, rows 200..699 set. Column-major runs:
    //   zeros before: 100 columns * 1000 + 200 rows = 100200, then 500 ones,
    //   then (300 below + 200 above) = 500 zeros and 500 ones for each of the other 499 columns,
    //   then the tail: 1e6 - (599 * 1000 + 700) = 400300 zeros.   => 1001 counts.
    // Encoding:
    //   100200 = 3131*32 + 8  -> g=8  rest 3131 -> 'X' (8+32+48)
    //   3131   = 97*32 + 27   -> g=27 rest 97   -> 'k' (27+32+48)
    //   97     = 3*32 + 1     -> g=1  rest 3    -> 'Q' (1+32+48)
    //   3                     -> '3'                               => "XkQ3"
    //   500 = 15*32 + 20 -> g=20 (sign bit, rest 15) -> 'd', then 15 -> '?'   => "d?" (counts #1, #2)
    //   #3..#999: 500 - 500 = 0 -> '0' (997 times)
    //   #1000: 400300 - counts[998] (= 500) = 399800
    //   399800 = 12493*32 + 24 -> 'h' (24+32+48); 12493 = 390*32 + 13 -> ']' (13+32+48);
    //   390 = 12*32 + 6 -> 'V' (6+32+48); 12 -> '<'                            => "h]V<"
    const mask = rectMask(1000, 1000, 100, 200, 600, 700);
    const expected = `XkQ3d?d?${"0".repeat(997)}h]V<`;
    const rle = encodeMask(mask);
    expect(rle.size).toEqual([1000, 1000]);
    expect(rle.counts).toBe(expected);
    const counts = countsFromString(expected);
    expect(counts).toHaveLength(1001);
    expect(counts.slice(0, 4)).toEqual([100200, 500, 500, 500]);
    expect(counts.at(-1)).toBe(400300);
    expect(rleArea(rle)).toBe(250000);
    expect(rleToBbox(rle)).toEqual([100, 200, 500, 500]);
    expect(firstDifference(decodeRle(rle), mask)).toBe(-1);
  });

  it("1000x1000 with a large negative delta and a 5-group count", () => {
    // Column 0 rows 0..599 and column 1 rows 0..4 set: runs [0, 600, 400, 5, 998995].
    //   0 -> '0'
    //   600 = 18*32 + 24 -> 'h' (24+32+48); 18 has the sign bit (rest 0 != -1) -> 'b' (18+32+48); 0 -> '0'
    //   400 = 12*32 + 16 -> '`' (16+32+48); 12 -> '<'
    //   #3: 5 - 600 = -595 = -19*32 + 13 -> ']' (13+32+48); -19 = -1*32 + 13 -> ']';
    //       -1 -> g=31, rest -1 -> 'O'                                           => "]]O"
    //   #4: 998995 - 400 = 998595 = 31206*32 + 3 -> 'S'; 31206 = 975*32 + 6 -> 'V';
    //       975 = 30*32 + 15 -> '_'; 30 has the sign bit (rest 0) -> 'n'; 0 -> '0'  => "SV_n0"
    const mask = createMask(1000, 1000);
    for (let y = 0; y < 600; y++) mask.data[y * 1000] = 1;
    for (let y = 0; y < 5; y++) mask.data[y * 1000 + 1] = 1;
    const rle = encodeMask(mask);
    expect(rle.counts).toBe("0hb0`<]]OSV_n0");
    expect(countsFromString(rle.counts)).toEqual([0, 600, 400, 5, 998995]);
    expect(firstDifference(decodeRle(rle), mask)).toBe(-1);
  });
});

/*
 * Strings published in public test suites that compare against pycocotools itself:
 * - twsl/pytorchcocotools tests/mask/test_encode.py, test_merge.py, test_to_bbox.py, test_area.py
 *   (each case is asserted equal to `pycocotools.mask.encode/merge/toBbox/area` output; the 25x25
 *   cases set mask[lo:hi, lo:hi] = 1).
 * - ppwwyyxx/cocoapi tests/test_cases.py (toBbox cases, a zero-leading RLE, an invalid RLE).
 */
describe("published pycocotools outputs", () => {
  it("encodes the 25x25 squares", () => {
    expect(encodeMask(square25(0, 5))).toEqual({ size: [25, 25], counts: "05d00000000d?" });
    expect(encodeMask(square25(5, 10))).toEqual({ size: [25, 25], counts: "R45d00000000b;" });
    expect(encodeMask(square25(20, 25))).toEqual({ size: [25, 25], counts: "X`05d00000000" });
    expect(encodeMask(square25(0, 25))).toEqual({ size: [25, 25], counts: "0ac0" });
  });

  it("compresses an uncompressed RLE as frPyObjects does", () => {
    const uncompressed = { size: [25, 25] as const, counts: [130, 5, 20, 5, 20, 5, 20, 5, 20, 5, 390] };
    expect(toCocoRle(uncompressed)).toEqual({ size: [25, 25], counts: "R45d00000000b;" });
    expect(rleFromCounts([25, 25], uncompressed.counts).counts).toBe("R45d00000000b;");
    expect(toUncompressedRle({ size: [25, 25], counts: "R45d00000000b;" })).toEqual({
      size: [25, 25],
      counts: uncompressed.counts,
    });
  });

  it("re-encodes decoded 427x640 COCO masks to the identical string", () => {
    const strings = [
      "\\`_3;j<6M3E_OjCd0T<:O1O2O001O00001O00001O001O0000O1K6J5J6A^C0g<N=O001O0O2Omk^4",
      "RT_32n<<O100O0010O000010O0001O00001O000O101O0ISPc4",
    ];
    for (const counts of strings) {
      const rle: CocoRle = { size: [427, 640], counts };
      const mask = decodeRle(rle);
      expect(encodeMask(mask)).toEqual(rle);
      expect(rleArea(rle)).toBe(pixelCount(mask));
      expect(rleToBbox(rle)).toEqual(maskToBbox(mask));
    }
  });

  it("computes area and bbox of the 25x25 squares", () => {
    expect(rleArea(encodeMask(square25(0, 5)))).toBe(25);
    expect(rleArea(encodeMask(square25(5, 10)))).toBe(25);
    expect(rleArea(encodeMask(square25(20, 25)))).toBe(25);
    expect(rleArea(encodeMask(square25(0, 25)))).toBe(625);
    expect(rleToBbox(encodeMask(square25(0, 5)))).toEqual([0, 0, 5, 5]);
    expect(rleToBbox(encodeMask(square25(5, 10)))).toEqual([5, 5, 5, 5]);
    expect(rleToBbox(encodeMask(square25(20, 25)))).toEqual([20, 20, 5, 5]);
    expect(rleToBbox(encodeMask(square25(0, 25)))).toEqual([0, 0, 25, 25]);
    // 25 high, 35 wide, mask[10:25, 10:30] = 1
    expect(rleToBbox(encodeMask(rectMask(35, 25, 10, 10, 30, 25)))).toEqual([10, 10, 20, 15]);
  });

  it("computes the bboxes from ppwwyyxx/cocoapi's tests", () => {
    expect(rleToBbox(encodeMask(maskFromRows([".#", "##"])))).toEqual([0, 0, 2, 2]);
    // 10x10, mask[2:4, 3:6] = 1
    expect(rleToBbox(encodeMask(rectMask(10, 10, 3, 2, 6, 4)))).toEqual([3, 2, 3, 2]);
  });

  it("handles an RLE with zero-length leading runs (ppwwyyxx/cocoapi testZeroLeadingRLE)", () => {
    const rle: CocoRle = {
      size: [1350, 1080],
      counts:
        "000lg0Zb01O00001O00001O001O00001O00001O001O00001O01O2N3M3M3M2N3M3N2M3M2N1O1O1O1O2N1O1O1O2N1O1O101N1O1O1O2N1O1O1O2N3M2N1O2N1O2O0O2N1O1O2N1O2N1O2N1O2N1O2N1O2O0O2N1O3M2N1O2N2N2N2N2N1O2N2N2N2N1O2N2N2N2N2N1N3N2N00O1O1O1O100000000000000O100000000000000001O0000001O00001O0O5L7I5K4L4L3M2N2N2N1O2m]OoXOm`0Sg0j^OVYOTa0lf0c^O]YO[a0ef0\\^OdYOba0bg0N2N2N2N2N2N2N2N2N2N2N2N2N2N2N2N2N3M2M4M2N3M2N3M2N3M2N3M2N3M2N3M2N3M2N3M2M4M2N2N3M2M4M2N2N3M2M3N3M2N3M2M3N3M2N2N3L3N2N3M2N3L3N2N3M5J4M3M4L3M3L5L3M3M4L3L4\\EXTOd6jo0K6J5K6I4M1O1O1O1N2O1O1O001N2O00001O0O101O000O2O00001N101N101N2N101N101N101N2O0O2O0O2O0O2O1N101N2N2O1N2O1N2O1N101N2O1N2O1N2O0O2O1N2N2O1N2O0O2O1N2O1N2N2N1N4M2N2M4M2N3L3N2N3L3N3L3N2N3L3N2N3L3M4L3M3M4L3M5K5K5K6J5K5K6J7I7I7Ibijn0",
    };
    expect(countsFromString(rle.counts).slice(0, 3)).toEqual([0, 0, 0]);
    const mask = decodeRle(rle);
    const reencoded = encodeMask(mask);
    // Re-encoding drops the empty runs, so the string changes, but the pixels, area and box do not.
    expect(reencoded.counts).not.toBe(rle.counts);
    expect(firstDifference(decodeRle(reencoded), mask)).toBe(-1);
    expect(rleArea(rle)).toBe(pixelCount(mask));
    expect(rleArea(reencoded)).toBe(rleArea(rle));
    expect(rleToBbox(rle)).toEqual(rleToBbox(reencoded));
    expect(rleToBbox(rle)).toEqual(maskToBbox(mask));
  });

  it("rejects the invalid RLE from ppwwyyxx/cocoapi testInvalidRLECounts", () => {
    const rle = {
      size: [1024, 1024] as const,
      counts:
        "jd`0=`o06J5L4M3L3N2N2N2N2N1O2N2N101N1O2O0O1O2N100O1O2N100O1O1O1O1O101N1O1O1O1O1O1O101N1O100O101O0O100000000000000001O00001O1O0O2O1N3N1N3N3L5Kh0XO6J4K5L5Id[o5N]dPJ7K4K4M3N2M3N2N1O2N100O2O0O1000O01000O101N1O1O2N2N2M3M3M4J7Inml5H[RSJ6L2N2N2N2O000000000000O2O1N2N2Mkm81SRG6L3L3N2O1N2N2O0O2O00001O0000000000O2O001N2O0O2N2N3M3L5JRjf6MPVYI8J4L3N3M2N1O2O1N101N1000000O10000001O000O101N101N1O2N2N2N3L4L7FWZ_50ne`J0000001O000000001O0000001O1O0N3M3N1O2N2N2O1N2O001N2`RO^O`k0c0[TOEak0;\\\\TOJbk07\\\\TOLck03[TO0dk01ZTO2dk0OYTO4gk0KXTO7gk0IXTO8ik0HUTO:kk0ETTO=lk0CRTO>Pl0@oSOb0Rl0\\\\OmSOe0Tl0[OjSOg0Ul0YOiSOi0Wl0XOgSOi0Yl0WOeSOk0[l0VOaSOn0kh0cNmYO",
    };
    expectRleError(() => decodeRle(rle), /negative run length/);
  });

  it("merges like pycocotools (test_merge.py)", () => {
    const rle = (lo: number, hi: number) => encodeMask(square25(lo, hi));
    expect(mergeRles([rle(0, 5), rle(0, 5)]).counts).toBe("05d00000000d?");
    expect(mergeRles([rle(5, 10), rle(5, 10)]).counts).toBe("R45d00000000b;");
    expect(mergeRles([rle(20, 25), rle(20, 25)]).counts).toBe("X`05d00000000");
    expect(mergeRles([rle(0, 25), rle(0, 25)]).counts).toBe("0ac0");
    expect(mergeRles([rle(5, 10), rle(10, 15)]).counts).toBe("R45d0000000050K0000000`7");
    expect(mergeRles([rle(5, 10), rle(5, 15)]).counts).toBe("R4:?00000000000000000e7");
    expect(mergeRles([rle(5, 10), rle(8, 13)]).counts).toBe("R45d000003M03M0000T9");
    expect(mergeRles([rle(0, 5), rle(0, 5)], "intersection").counts).toBe("05d00000000d?");
    expect(mergeRles([rle(0, 25), rle(0, 25)], "intersection").counts).toBe("0ac0");
    expect(mergeRles([rle(5, 10), rle(10, 15)], "intersection").counts).toBe("ac0");
    expect(mergeRles([rle(5, 10), rle(5, 15)], "intersection").counts).toBe("R45d00000000b;");
    expect(mergeRles([rle(5, 10), rle(8, 13)], "intersection").counts).toBe("`62g00_;");
  });

  it("merges the 427x640 COCO masks like pycocotools", () => {
    const a: CocoRle = {
      size: [427, 640],
      counts: "\\`_3;j<6M3E_OjCd0T<:O1O2O001O00001O00001O001O0000O1K6J5J6A^C0g<N=O001O0O2Omk^4",
    };
    const b: CocoRle = { size: [427, 640], counts: "RT_32n<<O100O0010O000010O0001O00001O000O101O0ISPc4" };
    expect(mergeRles([a, b]).counts).toBe(
      "RT_32X<9SD3f;3ZDNb;5_DKU;DeDd05HU;b0kD_OS;b0nD]OQ;e0nD[OR;e0nD[OR;f0nDZOQ;f0oDZOQ;f0oDZOQ;g0oDXOQ;h0oDXOQ;h0oDXOQ;i0oDVOQ;j0oDVOQ;k0nDTOS;l0mDTOS;l0nDSOR;l0oDmNX;n0f0J5J6A^C0g<N=O001O0O2Omk^4",
    );
  });
});

describe("round trips on random masks", () => {
  const sizes: [number, number][] = [
    [0, 0],
    [1, 1],
    [1, 17],
    [17, 1],
    [1, 100],
    [100, 1],
    [2, 2],
    [3, 5],
    [5, 3],
    [7, 13],
    [31, 33],
    [64, 64],
    [97, 61],
    [200, 150],
  ];
  const rng = seededRandom(0x5a1b);

  it("decode(encode(mask)) === mask for many sizes and densities", () => {
    let checked = 0;
    for (const [width, height] of sizes) {
      for (const density of [0, 0.02, 0.3, 0.5, 0.9, 1]) {
        const mask = noiseMask(rng, width, height, density);
        const rle = encodeMask(mask);
        expect(rle.size).toEqual([height, width]);
        const back = decodeRle(rle);
        expect(back.width).toBe(width);
        expect(back.height).toBe(height);
        expect(firstDifference(back, mask)).toBe(-1);
        expect(rleArea(rle)).toBe(pixelCount(mask));
        expect(rleToBbox(rle)).toEqual(maskToBbox(mask));
        checked++;
      }
    }
    expect(checked).toBe(sizes.length * 6);
  });

  it("treats any non-zero byte as object", () => {
    const mask = createMask(4, 3);
    mask.data.set([0, 255, 7, 0, 1, 0, 0, 200, 0, 0, 9, 1]);
    const binary = createMask(4, 3);
    binary.data.set(mask.data.map((v) => (v === 0 ? 0 : 1)));
    expect(encodeMask(mask)).toEqual(encodeMask(binary));
  });

  it("string <-> counts round-trips random counts, including large and zero runs", () => {
    for (let trial = 0; trial < 300; trial++) {
      const len = randomInt(rng, 0, 40);
      const counts: number[] = [];
      for (let i = 0; i < len; i++) {
        const kind = rng();
        counts.push(
          kind < 0.1
            ? 0
            : kind < 0.6
              ? randomInt(rng, 1, 40)
              : kind < 0.9
                ? randomInt(rng, 1, 5000)
                : randomInt(rng, 0, 2 ** 32 - 1),
        );
      }
      const s = countsToString(counts);
      expect(s).toMatch(/^[0-o]*$/);
      expect(countsFromString(s)).toEqual(counts);
    }
  });

  it("uncompressed and compressed forms agree", () => {
    for (let trial = 0; trial < 50; trial++) {
      const mask = noiseMask(rng, randomInt(rng, 1, 40), randomInt(rng, 1, 40), rng());
      const rle = encodeMask(mask);
      const uncompressed = toUncompressedRle(rle);
      expect(uncompressed.counts.reduce((a, b) => a + b, 0)).toBe(mask.width * mask.height);
      expect(firstDifference(decodeRle(uncompressed), mask)).toBe(-1);
      expect(toCocoRle(uncompressed)).toEqual(rle);
      expect(rleArea(uncompressed)).toBe(rleArea(rle));
      expect(rleToBbox(uncompressed)).toEqual(rleToBbox(rle));
      expect(
        firstDifference(decodeRle({ size: rle.size, counts: Uint32Array.from(uncompressed.counts) }), mask),
      ).toBe(-1);
    }
  });

  it("merge matches pixelwise OR / AND", () => {
    for (let trial = 0; trial < 60; trial++) {
      const width = randomInt(rng, 1, 30);
      const height = randomInt(rng, 1, 30);
      const masks = [0, 1, 2].map(() => noiseMask(rng, width, height, rng()));
      const or = createMask(width, height);
      const and = createMask(width, height);
      for (let i = 0; i < or.data.length; i++) {
        or.data[i] = masks.some((m) => m.data[i] === 1) ? 1 : 0;
        and.data[i] = masks.every((m) => m.data[i] === 1) ? 1 : 0;
      }
      const rles = masks.map(encodeMask);
      expect(mergeRles(rles)).toEqual(encodeMask(or));
      expect(mergeRles(rles, "intersection")).toEqual(encodeMask(and));
    }
  });

  it("a single RLE merges to itself", () => {
    const rle = encodeMask(square25(3, 9));
    expect(mergeRles([rle])).toEqual(rle);
  });
});

describe("rleToBbox", () => {
  it("covers every row when a run wraps from one column into the next", () => {
    // 4 high, 3 wide; the run covers (0,3) and (1,0): rows 0 and 3, so the box is all 4 rows.
    const mask = withPixels(3, 4, [
      [0, 3],
      [1, 0],
    ]);
    expect(countsFromString(encodeMask(mask).counts)).toEqual([3, 2, 7]);
    expect(rleToBbox(encodeMask(mask))).toEqual([0, 0, 2, 4]);
  });

  it("gives [0, 0, 0, 0] for empty and zero-size masks, ignoring zero-length object runs", () => {
    expect(rleToBbox(encodeMask(createMask(6, 4)))).toEqual([0, 0, 0, 0]);
    expect(rleToBbox(encodeMask(createMask(0, 0)))).toEqual([0, 0, 0, 0]);
    expect(rleToBbox({ size: [2, 3], counts: [2, 0, 4] })).toEqual([0, 0, 0, 0]);
    expect(rleToBbox({ size: [2, 3], counts: [2, 0, 1, 1, 2] })).toEqual([1, 1, 1, 1]);
  });
});

describe("large masks", () => {
  it("round-trips a 1500x2250 mask with ragged edges", () => {
    const width = 2250;
    const height = 1500;
    const mask = createMask(width, height);
    for (let y = 300; y < 1200; y++) {
      for (let x = 200 + (y % 50); x < 1900; x++) mask.data[y * width + x] = 1;
    }
    const rle = encodeMask(mask);
    const back = decodeRle(rle);
    expect(firstDifference(back, mask)).toBe(-1);
    expect(rleArea(rle)).toBe(pixelCount(mask));
  });
});

describe("malformed input throws RleError", () => {
  it("rejects characters outside '0'..'o'", () => {
    expectRleError(() => countsFromString("0!1"), /invalid character "!" at offset 1/);
    expectRleError(() => countsFromString("0p"), /invalid character "p" at offset 1/);
    expectRleError(() => countsFromString("0é"), /invalid character "é" at offset 1/);
    expectRleError(() => decodeRle({ size: [2, 2], counts: "0 4" }), /invalid character " "/);
  });

  it("rejects a value cut off after a continuation group", () => {
    // 'P' is group 0 with the continuation bit: another character must follow.
    expectRleError(() => countsFromString("0P"), /ends inside the value that starts at offset 1/);
  });

  it("rejects absurdly long values", () => {
    expectRleError(() => countsFromString(`${"P".repeat(12)}1`), /too long/);
  });

  it("rejects counts that decode negative", () => {
    // "111" = [1, 1, 1]; 'K' = 27 -> sign bit set -> -5; count #3 = counts[1] + (-5) = -4.
    expectRleError(() => countsFromString("111K"), /count #3 decodes to a negative run length \(-4\)/);
    // A negative count in the first three values: '@' is -16.
    expectRleError(() => countsFromString("@"), /count #0 decodes to a negative run length \(-16\)/);
    expectRleError(() => decodeRle({ size: [2, 2], counts: [5, -1] }), /count #1 is negative/);
    expectRleError(() => countsToString([3, -2]), /count #1 is negative/);
  });

  it("rejects counts that don't sum to height * width", () => {
    expectRleError(() => decodeRle({ size: [2, 3], counts: "5" }), /sum to 5 but size \[2, 3\] has 6 pixels/);
    expectRleError(() => decodeRle({ size: [2, 3], counts: "7" }), /sum to 7 but size \[2, 3\] has 6 pixels/);
    expectRleError(() => decodeRle({ size: [2, 3], counts: "" }), /sum to 0 but size \[2, 3\] has 6 pixels/);
    expectRleError(() => rleArea({ size: [3, 3], counts: [4] }), /sum to 4 but size \[3, 3\] has 9 pixels/);
    // A valid 25x25 string under the wrong size.
    expectRleError(() => rleToBbox({ size: [25, 24], counts: "R45d00000000b;" }), /has 600 pixels/);
    expectRleError(() => rleFromCounts([2, 2], [1, 2]), /sum to 3/);
  });

  it("rejects malformed sizes", () => {
    const bad: unknown[] = [
      [25],
      [25, 25, 1],
      [-1, 5],
      [2.5, 4],
      ["25", "25"],
      null,
      "25x25",
      [Number.NaN, 1],
    ];
    for (const size of bad) {
      expectRleError(() => decodeRle({ size, counts: "0" } as unknown as RleInput), /RLE size/);
    }
    expectRleError(() => decodeRle({ size: [100000, 100000], counts: "0" }), /more than 4294967295 pixels/);
  });

  it("rejects counts of the wrong type", () => {
    for (const counts of [5, null, { a: 1 }, undefined]) {
      expectRleError(() => decodeRle({ size: [1, 5], counts } as unknown as RleInput), /string or an array/);
    }
    expectRleError(() => decodeRle({ size: [1, 3], counts: [1.5, 1.5] }), /count #0 must be an integer/);
    expectRleError(
      () => decodeRle({ size: [1, 3], counts: ["3"] } as unknown as RleInput),
      /must be an integer/,
    );
    expectRleError(() => decodeRle(null as unknown as RleInput), /must be an object/);
  });

  it("rejects merges without RLEs or with mixed sizes", () => {
    expectRleError(() => mergeRles([]), /empty list/);
    expectRleError(
      () => mergeRles([encodeMask(createMask(3, 2)), encodeMask(createMask(2, 3))]),
      /different sizes: #0 is \[2, 3\], #1 is \[3, 2\]/,
    );
  });

  it("assertValidRle passes good RLEs and throws on bad ones", () => {
    expect(() => assertValidRle({ size: [25, 25], counts: "0ac0" })).not.toThrow();
    expectRleError(
      () => assertValidRle({ size: [25, 25], counts: "0a3" }),
      /sum to 113 but size \[25, 25\] has 625/,
    );
  });

  it("rejects masks whose data does not match their size", () => {
    expect(() => encodeMask({ width: 3, height: 3, data: new Uint8Array(8) })).toThrow(/needs 9/);
  });
});

describe("test helpers", () => {
  it("firstDifference finds the first differing pixel", () => {
    const a = maskFromRows(["#..", "..#"]);
    const b = maskFromRows(["#..", ".##"]);
    expect(firstDifference(a, a)).toBe(-1);
    expect(firstDifference(a, b)).toBe(4);
  });
});
