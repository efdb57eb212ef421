// Entry point for Next route handlers: HTTP helpers and the services binary routes call.
export * from "./access";
export * from "./byte-range";
export * from "./http";
export * from "./services/embeddings";
export { exportFileForDownload } from "./services/exports";
export * from "./services/ingest";
export {
  MAX_MODEL_FILE_BYTES,
  modelUploadParams,
  reembedProject,
  registerUploadedModel,
  stageModelUpload,
} from "./services/model-versions";
export * from "./services/models";
export { statsCsvDownload } from "./services/stats-csv";
export * from "./web-stream";
