/** Messages between the annotation page and its decoder Web Worker. */
import type { BoxPrompt, BrowserDecoderPart, PointPrompt } from "@sas/sam";

/** One decoder graph as the server lists it (`GET /api/models/:id/decoder`): named by its bytes' sha256. */
export interface GraphFile {
  part: BrowserDecoderPart;
  url: string;
  sha256: string;
  bytes: number;
  /** Shipped optimised (see `servedDecoderGraphs`): created with graph optimisation off. */
  preOptimized: boolean;
}

export interface InitRequest {
  type: "init";
  /** The model version's graph list (`GET /api/models/:id/decoder`). */
  graphsUrl: string;
  /** Where the app serves onnxruntime-web's scripts and WASM (no CDN). */
  ortBase: string;
  /** The runtime's content hash: its files are fetched as `<ortBase><file>?v=<ortVersion>` (immutable). */
  ortVersion: string;
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
  /** Report download progress (the image on screen; a prefetch stays quiet). */
  report: boolean;
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

/** Something the page waits for while opening: a file downloading (or read from the browser's cache). */
export interface LoadItem {
  id: string;
  /** What it is, for people: "decoder runtime", "click decoder", "image embedding"… */
  label: string;
  loadedBytes: number;
  /** 0 while unknown. */
  totalBytes: number;
  done: boolean;
  /** Read from the browser's cache, not the network. */
  cached: boolean;
}

export interface ProgressResponse {
  type: "progress";
  item: LoadItem;
}

/** A step of opening finished, at `epochMs` (performance.timeOrigin + now(), comparable across threads). */
export interface MarkResponse {
  type: "mark";
  step: string;
  epochMs: number;
}

export interface ErrorResponse {
  type: "error";
  /** The request that failed; absent for init. */
  id?: number;
  message: string;
}

export type DecoderResponse =
  | ReadyResponse
  | LoadedResponse
  | DecodedResponse
  | ProgressResponse
  | MarkResponse
  | ErrorResponse;
