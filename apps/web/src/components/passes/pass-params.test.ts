import { describe, expect, it } from "vitest";
import {
  type AutoMaskParams,
  changedParams,
  formatSeconds,
  PARAM_FIELDS,
  paramsToTexts,
  parseParamTexts,
  summarizeParams,
} from "./pass-params";

/** SAM's automatic mask generator defaults, as the issue states them. */
const defaults: AutoMaskParams = {
  pointsPerSide: 32,
  pointsPerBatch: 64,
  predIouThresh: 0.88,
  stabilityScoreThresh: 0.95,
  stabilityScoreOffset: 1,
  boxNmsThresh: 0.7,
  cropNLayers: 1,
  cropNmsThresh: 0.7,
  cropOverlapRatio: 512 / 1500,
  cropNPointsDownscaleFactor: 2,
  minMaskRegionArea: 0,
};

describe("pass parameters in the form", () => {
  it("has one input per parameter", () => {
    expect(PARAM_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(defaults).sort());
  });

  it("round-trips the defaults; untouched fields are not sent, so they stay exact", () => {
    const texts = paramsToTexts(defaults);
    expect(texts.cropOverlapRatio).toBe("0.341333");
    const parsed = parseParamTexts(texts);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(changedParams(texts, parsed.params, defaults)).toEqual({});
  });

  it("sends what the admin changed", () => {
    const texts = { ...paramsToTexts(defaults), pointsPerSide: "8", cropNLayers: " 0 " };
    const parsed = parseParamTexts(texts);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(changedParams(texts, parsed.params, defaults)).toEqual({ pointsPerSide: 8, cropNLayers: 0 });
  });

  it("refuses empty, fractional counts and out-of-range values, naming the field", () => {
    const base = paramsToTexts(defaults);
    expect(parseParamTexts({ ...base, predIouThresh: "" })).toMatchObject({
      ok: false,
      field: "predIouThresh",
    });
    expect(parseParamTexts({ ...base, pointsPerSide: "8.5" })).toMatchObject({
      ok: false,
      field: "pointsPerSide",
      message: expect.stringContaining("whole number"),
    });
    expect(parseParamTexts({ ...base, boxNmsThresh: "1.5" })).toMatchObject({
      ok: false,
      field: "boxNmsThresh",
    });
    expect(parseParamTexts({ ...base, cropNLayers: "abc" })).toMatchObject({
      ok: false,
      field: "cropNLayers",
    });
  });

  it("summarises grid, crops and thresholds", () => {
    expect(summarizeParams(defaults)).toBe("32×32 points + 1 crop layer · IoU ≥ 0.88 · stability ≥ 0.95");
    expect(summarizeParams({ ...defaults, pointsPerSide: 8, cropNLayers: 0 })).toContain(
      "8×8 points + no crops",
    );
  });
});

describe("formatSeconds", () => {
  it("reads naturally from seconds to hours", () => {
    expect(formatSeconds(null)).toBe("–");
    expect(formatSeconds(2.345)).toBe("2.3 s");
    expect(formatSeconds(45)).toBe("45 s");
    expect(formatSeconds(185)).toBe("3 min 05 s");
    expect(formatSeconds(3720)).toBe("1 h 02 min");
  });
});
