import { createMask, encodeMask, maskArea, maskExtent } from "@sas/sa1b";
import { describe, expect, it } from "vitest";
import { MaskDomainError } from "./errors";
import { assertRleFitsImage, maskGeometry } from "./geometry";

describe("maskGeometry", () => {
  it("gives a one-pixel mask SAM's zero-size box", () => {
    const mask = createMask(5, 4);
    mask.data[2 * 5 + 3] = 1;
    expect(maskGeometry(encodeMask(mask))).toEqual({ area: 1, bbox: [3, 2, 0, 0] });
  });

  it("matches the SAM box over the decoded extent for random masks", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 200; n++) {
      const mask = createMask(1 + Math.floor(random() * 40), 1 + Math.floor(random() * 30));
      const density = random() * 0.2;
      for (let i = 0; i < mask.data.length; i++) mask.data[i] = random() < density ? 1 : 0;
      const extent = maskExtent(mask);
      if (!extent) continue;
      expect(maskGeometry(encodeMask(mask))).toEqual({
        area: maskArea(mask),
        bbox: [extent.x0, extent.y0, extent.x1 - extent.x0, extent.y1 - extent.y0],
      });
    }
  });

  it("refuses malformed counts as a bad request", () => {
    const error = (() => {
      try {
        maskGeometry({ size: [4, 4], counts: "5" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MaskDomainError);
    expect((error as MaskDomainError).code).toBe("BAD_REQUEST");
  });

  it("refuses an empty mask", () => {
    expect(() => maskGeometry(encodeMask(createMask(4, 4)))).toThrow(MaskDomainError);
  });
});

describe("assertRleFitsImage", () => {
  it("wants [height, width]", () => {
    const rle = encodeMask(createMask(6, 3));
    expect(() => assertRleFitsImage(rle, { width: 6, height: 3 })).not.toThrow();
    expect(() => assertRleFitsImage(rle, { width: 3, height: 6 })).toThrow(/\[3, 6\].*\[6, 3\]/);
  });
});
