import { describe, expect, it } from "vitest";
import { fromFloat16, toFloat16 } from "./float16";

describe("float16", () => {
  it("encodes known values bit-exactly", () => {
    const values = new Float32Array([
      0,
      -0,
      1,
      -2,
      0.5,
      65504,
      1e-8,
      6.103515625e-5,
      2 ** -24,
      Infinity,
      70000,
    ]);
    expect(Array.from(toFloat16(values))).toEqual([
      0x0000, 0x8000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x0000, 0x0400, 0x0001, 0x7c00, 0x7c00,
    ]);
    expect(Number.isNaN(fromFloat16(toFloat16(new Float32Array([Number.NaN])))[0])).toBe(true);
  });

  it("rounds to nearest, ties to even", () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(toFloat16(new Float32Array([1 + 2 ** -11]))[0]).toBe(0x3c00);
    expect(toFloat16(new Float32Array([1 + 3 * 2 ** -11]))[0]).toBe(0x3c02);
  });

  it("round-trips every half value exactly and keeps relative error under 2^-11 for normal floats", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16(fromFloat16(all));
    for (let i = 0; i < 65536; i++) {
      const nanBits = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (!nanBits) expect(back[i]).toBe(i);
    }
    const random = new Float32Array(10_000).map((_, i) => Math.sin(i * 12.9898) * 40);
    const decoded = fromFloat16(toFloat16(random));
    for (let i = 0; i < random.length; i++) {
      const v = random[i]!;
      if (Math.abs(v) > 6.2e-5) expect(Math.abs(decoded[i]! - v) / Math.abs(v)).toBeLessThanOrEqual(2 ** -11);
    }
  });
});
