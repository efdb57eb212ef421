import { describe, expect, it } from "vitest";
import { createMask } from "../mask";
import { encodeMask } from "../rle";
import { rectMask } from "../test-utils";
import { annotationFor, sa1bFileFor } from "./testing";
import { checkSa1bAnnotations, imageSizeProblem } from "./validate";

const file = () =>
  sa1bFileFor(3, { width: 8, height: 6 }, [
    annotationFor(1, rectMask(8, 6, 0, 0, 4, 4)),
    annotationFor(2, rectMask(8, 6, 4, 2, 8, 6)),
  ]);

describe("checkSa1bAnnotations", () => {
  it("accepts a well-formed file with and without the optional keys", () => {
    const withExtras = file();
    withExtras.annotations[0] = {
      ...withExtras.annotations[0]!,
      source: "semi_auto",
      stage: "semi_automatic",
    };
    expect(checkSa1bAnnotations(file()).ok).toBe(true);
    expect(checkSa1bAnnotations(withExtras)).toEqual({ ok: true, file: withExtras });
  });

  it("names the field of each problem", () => {
    const bad = file();
    bad.annotations[1] = { ...bad.annotations[1]!, id: 1, crop_box: [0, -2, 8, 6] };
    bad.annotations.push(annotationFor(3, createMask(8, 6)));
    expect(checkSa1bAnnotations(bad)).toEqual({
      ok: false,
      error:
        "annotations.1.crop_box: negative coordinate in [0, -2, 8, 6]; annotations.1.id: 1 is also the id of annotations.0; annotations.2.segmentation: the mask is empty",
    });
  });

  it("refuses unknown sources, a missing image block and more than three problems in one line", () => {
    const bad = JSON.parse(JSON.stringify(file()));
    bad.annotations[0].source = "robot";
    expect(checkSa1bAnnotations(bad)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^annotations\.0\.source: /),
    });
    expect(checkSa1bAnnotations({ annotations: [] })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^image: /),
    });
    const many = file();
    for (const a of many.annotations) a.bbox = [-1, -1, 1, 1];
    many.annotations.push(
      { ...annotationFor(5, rectMask(8, 6, 1, 1, 2, 2)), bbox: [-1, 0, 0, 0] },
      { ...annotationFor(6, rectMask(8, 6, 1, 1, 2, 2)), bbox: [-1, 0, 0, 0] },
    );
    const checked = checkSa1bAnnotations(many);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toMatch(/\(and 1 more problem\)$/);
  });

  it("compares the stated size with the decoded image", () => {
    expect(imageSizeProblem(file(), { width: 8, height: 6 })).toBeNull();
    expect(imageSizeProblem(file(), { width: 6, height: 8 })).toBe(
      "image.width x image.height 8x6 does not match the image's decoded size 6x8",
    );
    expect(encodeMask(rectMask(8, 6, 0, 0, 4, 4)).size).toEqual([6, 8]);
  });
});
