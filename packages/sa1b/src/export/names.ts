// File names of an export, shared by the writer and the rows that list an export's files. Pure, so the
// main `@sas/sa1b` entry re-exports them without pulling in the Node-only tar writer.

export const MANIFEST_NAME = "manifest.jsonl";
export const FILE_LIST_NAME = "files.txt";
export const COCO_NAME = "coco.json";

/** `sa_000000.tar`, `sa_000001.tar`, ... */
export const shardName = (index: number): string => `sa_${String(index).padStart(6, "0")}.tar`;
