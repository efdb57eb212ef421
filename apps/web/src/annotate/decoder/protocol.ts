/** Messages between the annotation page and its decoder Web Worker. */
import type { BoxPrompt, PointPrompt } from "@sas/sam";

export interface InitRequest {
  type: "init";
  /** Prefix of the decoder graphs (prepare / click / refine) for the project's model version. */
  modelBase: string;
  /** Where the app serves onnxruntime-web's scripts and WASM (no CDN). */
  ortBase: string;
  threads: number;
  /** Use WebGPU when the browser has a real (non-fallback) adapter. */
  preferWebGpu: boolean;
}

export interface LoadRequest {
  type: "load";
  id: number;
  /** Cache key: the image id. */
  key: string;
  url: string;
}

export interface DecodeRequest {
  type: "decode";
  id: number;
  key: string;
  points: PointPrompt[];
  box?: BoxPrompt;
  /** Previous low-res logits (256x256) for a refinement prompt. */
  maskInput?: Float32Array;
}

export type DecoderRequest = InitRequest | LoadRequest | DecodeRequest;

export interface ReadyResponse {
  type: "ready";
  backend: "webgpu" | "wasm";
  threads: number;
  loadMs: number;
}

export interface LoadedResponse {
  type: "loaded";
  id: number;
  key: string;
  width: number;
  height: number;
  ms: number;
  cached: boolean;
}

export interface DecodedResponse {
  type: "decoded";
  id: number;
  /** [4, 256, 256] logits of all candidates (token 0 = single-mask, 1-3 = SAM's choices). */
  lowRes: Float32Array;
  iou: Float32Array;
  /** Time inside the worker: feeds + session.run. */
  decodeMs: number;
  /** session.run alone (inputs copied in, graph, outputs copied out). */
  runMs: number;
}

export interface ErrorResponse {
  type: "error";
  /** The request that failed; absent for init. */
  id?: number;
  message: string;
}

export type DecoderResponse = ReadyResponse | LoadedResponse | DecodedResponse | ErrorResponse;
