export * from "./automatic";
export * from "./errors";
export * from "./geometry";
export * from "./imported";
export * from "./review";
export * from "./view";
export * from "./writes";
