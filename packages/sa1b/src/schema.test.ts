import { describe, expect, it } from "vitest";
import { encodeMask, rleArea, rleToBbox } from "./rle";
import { cocoRleSchema, type Sa1bFile, sa1bAnnotationSchema, sa1bFileSchema } from "./schema";
import { rectMask } from "./test-utils";

function sampleFile(): Sa1bFile {
  const mask = rectMask(8, 6, 2, 1, 5, 4);
  const segmentation = encodeMask(mask);
  return {
    image: { image_id: 42, width: 8, height: 6, file_name: "sa_42.jpg" },
    annotations: [
      {
        id: 1001,
        segmentation,
        bbox: rleToBbox(segmentation),
        area: rleArea(segmentation),
        predicted_iou: 0.97,
        stability_score: 0.95,
        point_coords: [[3.25, 2.5]],
        crop_box: [0, 0, 8, 6],
      },
    ],
  };
}

function issues(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => ({ path: issue.path, message: issue.message }));
}

describe("sa1bFileSchema", () => {
  it("accepts a well-formed SA-1B file and keeps its values", () => {
    const file = sampleFile();
    const parsed = sa1bFileSchema.parse(JSON.parse(JSON.stringify(file)));
    expect(parsed).toEqual(file);
    expect(parsed.annotations[0]?.segmentation).toEqual({ size: [6, 8], counts: "=33000a0" });
    expect(parsed.annotations[0]?.bbox).toEqual([2, 1, 3, 3]);
    expect(parsed.annotations[0]?.area).toBe(9);
  });

  it("accepts a file without annotations", () => {
    const file = { ...sampleFile(), annotations: [] };
    expect(sa1bFileSchema.parse(file).annotations).toEqual([]);
  });

  it("reports a segmentation whose counts don't fill its size, at the counts", () => {
    const file = sampleFile();
    file.annotations[0]!.segmentation = { size: [6, 8], counts: "=33000" };
    const found = issues(sa1bFileSchema.safeParse(file));
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toEqual(["annotations", 0, "segmentation", "counts"]);
    expect(found[0]?.message).toMatch(/sum to 28 but size \[6, 8\] has 48 pixels/);
  });

  it("reports bad characters in the counts", () => {
    const file = sampleFile();
    file.annotations[0]!.segmentation = { size: [6, 8], counts: "=3~000a0" };
    const found = issues(sa1bFileSchema.safeParse(file));
    expect(found[0]?.path).toEqual(["annotations", 0, "segmentation", "counts"]);
    expect(found[0]?.message).toMatch(/invalid character "~" at offset 2/);
  });

  it("reports a segmentation whose size is not the image's", () => {
    const file = sampleFile();
    file.annotations[0]!.segmentation = encodeMask(rectMask(6, 8, 0, 0, 1, 1)); // 8 high, 6 wide
    const found = issues(sa1bFileSchema.safeParse(file));
    expect(found).toEqual([
      {
        path: ["annotations", 0, "segmentation", "size"],
        message: "segmentation size [8, 6] does not match the image's [height, width] [6, 8]",
      },
    ]);
  });

  it("rejects wrong shapes and types with paths", () => {
    const file = JSON.parse(JSON.stringify(sampleFile()));
    file.annotations[0].bbox = [1, 2, 3];
    file.annotations[0].point_coords = [[1]];
    file.annotations[0].stability_score = 1.5;
    file.image.width = 0;
    delete file.annotations[0].crop_box;
    const paths = issues(sa1bFileSchema.safeParse(file)).map((issue) => issue.path.join("."));
    expect(paths).toEqual(
      expect.arrayContaining([
        "image.width",
        "annotations.0.bbox",
        "annotations.0.point_coords.0",
        "annotations.0.stability_score",
        "annotations.0.crop_box",
      ]),
    );
  });
});

describe("cocoRleSchema", () => {
  it("accepts valid RLE and rejects malformed ones", () => {
    expect(cocoRleSchema.parse({ size: [25, 25], counts: "0ac0" })).toEqual({
      size: [25, 25],
      counts: "0ac0",
    });
    expect(cocoRleSchema.safeParse({ size: [25, 25], counts: "0P" }).success).toBe(false);
    expect(cocoRleSchema.safeParse({ size: [25, -25], counts: "0" }).success).toBe(false);
    expect(cocoRleSchema.safeParse({ size: [25], counts: "0ac0" }).success).toBe(false);
    expect(cocoRleSchema.safeParse({ size: [25, 25], counts: [0, 625] }).success).toBe(false);
    expect(cocoRleSchema.safeParse({ size: [0, 0], counts: "0" }).success).toBe(true);
  });

  it("is used for each annotation on its own too", () => {
    const annotation = sampleFile().annotations[0]!;
    expect(sa1bAnnotationSchema.parse(annotation).id).toBe(1001);
    expect(sa1bAnnotationSchema.safeParse({ ...annotation, area: -1 }).success).toBe(false);
  });
});
