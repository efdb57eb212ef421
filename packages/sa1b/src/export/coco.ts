/**
 * COCO instance-segmentation entries for the optional `coco.json`. Images and annotations are written
 * one by one by the export writer (the file is streamed, never held whole); categories are the masks'
 * labels, numbered in order of first appearance ("object" for unlabeled masks), and written last.
 * COCO's bbox is its own whole-pixel convention (pycocotools toBbox), not SAM's.
 */
import type { CocoRle } from "../rle";
import { rleToBbox } from "../rle";

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: CocoRle;
  area: number;
  bbox: [number, number, number, number];
  iscrowd: 0;
  score: number;
}

export const UNLABELED_CATEGORY = "object";

export class CocoCategories {
  private readonly ids = new Map<string, number>();

  idOf(label: string): number {
    const name = label || UNLABELED_CATEGORY;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(name, id);
    }
    return id;
  }

  list(): { id: number; name: string; supercategory: string }[] {
    return [...this.ids].map(([name, id]) => ({ id, name, supercategory: "" }));
  }
}

export function cocoAnnotation(
  annotation: { id: number; segmentation: CocoRle; area: number; predicted_iou: number; label?: string },
  imageId: number,
  categories: CocoCategories,
): CocoAnnotation {
  return {
    id: annotation.id,
    image_id: imageId,
    category_id: categories.idOf(annotation.label ?? ""),
    segmentation: annotation.segmentation,
    area: annotation.area,
    bbox: rleToBbox(annotation.segmentation),
    iscrowd: 0,
    score: annotation.predicted_iou,
  };
}
