export * from "./auto-mask";
export * from "./browser-decoder";
export * from "./decode-image";
export * from "./model-files";
export * from "./model-store";
export * from "./point-decoder";
export * from "./session";
export * from "./validate-model";
