import { describe, expect, it } from "vitest";
import { encodeMask } from "./rle";
import { parseSa1bMemberName, SA1B_MEMBER, sa1bExportFileSchema } from "./sa1b-file";
import { sa1bFileSchema } from "./schema";
import { rectMask } from "./test-utils";

function file(extra: Record<string, unknown> = {}) {
  const segmentation = encodeMask(rectMask(4, 3, 1, 0, 2, 2));
  return {
    image: { image_id: 7, width: 4, height: 3, file_name: "sa_7.jpg" },
    annotations: [
      {
        id: 1,
        segmentation,
        bbox: [1, 0, 1, 1],
        area: 4,
        predicted_iou: 0.9,
        stability_score: 0.95,
        point_coords: [[1.5, 0.5]],
        crop_box: [0, 0, 4, 3],
        ...extra,
      },
    ],
  };
}

describe("sa1bExportFileSchema", () => {
  it("accepts a plain SA-1B file and one with source/stage/label, which SA-1B's schema also accepts", () => {
    expect(sa1bExportFileSchema.parse(file()).annotations[0]?.source).toBeUndefined();
    const ours = file({ source: "manual", stage: "assisted_manual", label: "dog" });
    expect(sa1bExportFileSchema.parse(ours).annotations[0]?.label).toBe("dog");
    expect(sa1bFileSchema.safeParse(ours).success).toBe(true);
  });

  it("refuses an unknown source and a segmentation of another size", () => {
    expect(sa1bExportFileSchema.safeParse(file({ source: "robot" })).success).toBe(false);
    const wrong = file({ segmentation: encodeMask(rectMask(5, 3, 0, 0, 1, 1)) });
    expect(sa1bExportFileSchema.safeParse(wrong).success).toBe(false);
  });
});

describe("SA1B_MEMBER", () => {
  it("names members as SA-1B's tars and parses them back", () => {
    expect(SA1B_MEMBER.image(12)).toBe("sa_12.jpg");
    expect(SA1B_MEMBER.annotations(12)).toBe("sa_12.json");
    expect(parseSa1bMemberName("./sa_12.json")).toEqual({ n: 12, kind: "annotations" });
    expect(parseSa1bMemberName("sa_3.jpg")).toEqual({ n: 3, kind: "image" });
    expect(parseSa1bMemberName("readme.txt")).toBeNull();
  });
});
