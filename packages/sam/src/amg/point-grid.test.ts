import { describe, expect, it } from "vitest";
import { pointsPerSideByLayer } from "./params";
import { buildAllLayerPointGrids, buildPointGrid, scaleGridToCrop } from "./point-grid";

describe("buildPointGrid (SAM's build_point_grid)", () => {
  it("puts one point in the centre for n = 1", () => {
    expect([...buildPointGrid(1)]).toEqual([0.5, 0.5]);
  });

  it("offsets the first and last point by 1/(2n) and walks row by row, x inner", () => {
    expect([...buildPointGrid(2)]).toEqual([0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]);
    const g4 = buildPointGrid(4);
    expect([...g4.subarray(0, 8)]).toEqual([0.125, 0.125, 0.375, 0.125, 0.625, 0.125, 0.875, 0.125]);
    // Point 5 is row 1, column 1.
    expect([g4[10], g4[11]]).toEqual([0.375, 0.375]);
  });

  it("gives n² points spanning [1/(2n), 1 - 1/(2n)] evenly for n = 32", () => {
    const g = buildPointGrid(32);
    expect(g.length).toBe(2 * 1024);
    expect(g[0]).toBeCloseTo(1 / 64, 15);
    expect(g[2 * 1023]).toBe(1 - 1 / 64);
    for (let i = 1; i < 32; i++) expect(g[2 * i]! - g[2 * (i - 1)]!).toBeCloseTo(1 / 32, 12);
  });

  it("rejects a non-positive or fractional count", () => {
    expect(() => buildPointGrid(0)).toThrow(RangeError);
    expect(() => buildPointGrid(2.5)).toThrow(RangeError);
  });
});

describe("points per layer (SAM's build_all_layer_point_grids)", () => {
  it("divides by the downscale factor per layer and truncates", () => {
    expect(
      pointsPerSideByLayer({ pointsPerSide: 32, cropNLayers: 0, cropNPointsDownscaleFactor: 2 }),
    ).toEqual([32]);
    expect(
      pointsPerSideByLayer({ pointsPerSide: 32, cropNLayers: 1, cropNPointsDownscaleFactor: 2 }),
    ).toEqual([32, 16]);
    expect(
      pointsPerSideByLayer({ pointsPerSide: 32, cropNLayers: 2, cropNPointsDownscaleFactor: 1 }),
    ).toEqual([32, 32, 32]);
    // int(5 / 2) = 2, int(5 / 4) = 1.
    expect(pointsPerSideByLayer({ pointsPerSide: 5, cropNLayers: 2, cropNPointsDownscaleFactor: 2 })).toEqual(
      [5, 2, 1],
    );
  });

  it("refuses a layer that would get no points", () => {
    expect(() =>
      pointsPerSideByLayer({ pointsPerSide: 3, cropNLayers: 2, cropNPointsDownscaleFactor: 2 }),
    ).toThrow(/crop layer 2 would get no points/);
  });

  it("builds one grid per layer", () => {
    const grids = buildAllLayerPointGrids([4, 2]);
    expect(grids.map((g) => g.length / 2)).toEqual([16, 4]);
  });
});

describe("scaleGridToCrop", () => {
  it("scales x by the crop width and y by its height (SAM: grid * [w, h])", () => {
    expect([...scaleGridToCrop(buildPointGrid(2), 400, 100)]).toEqual([100, 25, 300, 25, 100, 75, 300, 75]);
  });
});
