// The export writer: a separate entry (`@sas/db/export`) because it loads sharp and SAM's image helpers,
// which the web app's tRPC handlers do not need.
export * from "./cursor";
export * from "./jpeg";
export * from "./writer";
