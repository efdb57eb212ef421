export * from "./automatic";
export * from "./errors";
export * from "./geometry";
export * from "./view";
