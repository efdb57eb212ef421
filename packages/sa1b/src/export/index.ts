// SA-1B export pieces. A separate entry (`@sas/sa1b/export`) because the tar writer needs Node streams.
export * from "./coco";
export * from "./manifest";
export * from "./names";
export * from "./records";
export * from "./resize";
export * from "./tar-shard";
