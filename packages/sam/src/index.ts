export * from "./multimask";
export * from "./onnx-graph";
export * from "./postprocess";
export * from "./preprocess";
export * from "./prompt-feeds";
export * from "./protobuf";
export * from "./transforms";
export * from "./types";
