/// <reference lib="webworker" />
/**
 * The SAM decoder in a Web Worker: onnxruntime-web loaded from the app's own /ort/ route (WASM with SIMD
 * and threads when the page is cross-origin isolated, WebGPU when a real adapter exists), one warm
 * session per decoder part, and the last few images kept as their `prepare` outputs (float32 tensors).
 */
import {
  BROWSER_DECODER_INPUTS,
  BROWSER_DECODER_OUTPUTS,
  BROWSER_DECODER_PARTS,
  type BrowserDecoderPart,
  browserDecoderFeeds,
  fromFloat16,
  SAM_LOW_RES_SIZE,
} from "@sas/sam";
import type * as Ort from "onnxruntime-web";
import type { DecodeRequest, DecoderRequest, DecoderResponse, InitRequest, LoadRequest } from "./protocol";

declare const self: DedicatedWorkerGlobalScope;

interface LoadedEmbedding {
  /** The `prepare` model's outputs for this image: the image-side inputs of `click` and `refine`. */
  prepared: Record<string, Ort.Tensor>;
  width: number;
  height: number;
}

/** The current image, the next one (prefetched) and the previous one (going back). */
const EMBEDDING_CACHE_SIZE = 3;
const EMBEDDING_DIMS = [1, 256, 64, 64];
const EMBEDDING_SIZE = 256 * 64 * 64;

let ort: typeof Ort | null = null;
let sessions: Record<BrowserDecoderPart, Ort.InferenceSession> | null = null;
const embeddings = new Map<string, LoadedEmbedding>();
const loading = new Map<string, Promise<LoadedEmbedding>>();
const zeroMask = new Float32Array(SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE);

const post = (msg: DecoderResponse, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

type GpuNavigator = Navigator & {
  gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> };
};

async function realGpu(): Promise<boolean> {
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return false;
  try {
    const adapter = await gpu.requestAdapter();
    return !!adapter && !adapter.info?.isFallbackAdapter;
  } catch {
    return false;
  }
}

async function fetchModel(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`decoder model ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function init(msg: InitRequest): Promise<void> {
  const started = performance.now();
  const gpu = msg.preferWebGpu && (await realGpu());
  const script = `${msg.ortBase}${gpu ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs"}`;
  // Loaded at run time from the app's own route rather than bundled: ORT finds its WASM next to it.
  const runtime = (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ script)) as typeof Ort;
  runtime.env.wasm.wasmPaths = msg.ortBase;
  const threads = self.crossOriginIsolated
    ? Math.max(1, Math.min(msg.threads, navigator.hardwareConcurrency || 1))
    : 1;
  runtime.env.wasm.numThreads = threads;
  const options: Ort.InferenceSession.SessionOptions = {
    executionProviders: gpu ? ["webgpu", "wasm"] : ["wasm"],
    graphOptimizationLevel: "all",
  };
  const models = await Promise.all(
    BROWSER_DECODER_PARTS.map((part) => fetchModel(`${msg.modelBase}${part}`)),
  );
  const created: Ort.InferenceSession[] = [];
  for (const model of models) created.push(await runtime.InferenceSession.create(model, options));
  ort = runtime;
  sessions = { prepare: created[0]!, click: created[1]!, refine: created[2]! };
  // One run of each on a blank image, so the first real click does not pay for kernel setup.
  const blank = await prepareEmbedding(new Float32Array(EMBEDDING_SIZE), 1024, 1024);
  await run(blank, { points: [{ x: 512, y: 512, label: 1 }] });
  await run(blank, { points: [{ x: 512, y: 512, label: 1 }], maskInput: zeroMask });
  release(blank);
  post({ type: "ready", backend: gpu ? "webgpu" : "wasm", threads, loadMs: performance.now() - started });
}

function release(e: LoadedEmbedding): void {
  for (const t of Object.values(e.prepared)) t.dispose();
}

function remember(key: string, value: LoadedEmbedding): void {
  embeddings.delete(key);
  embeddings.set(key, value);
  while (embeddings.size > EMBEDDING_CACHE_SIZE) {
    const oldest = embeddings.keys().next().value;
    if (oldest === undefined) break;
    const evicted = embeddings.get(oldest);
    embeddings.delete(oldest);
    if (evicted) release(evicted);
  }
}

async function prepareEmbedding(data: Float32Array, width: number, height: number): Promise<LoadedEmbedding> {
  if (!ort || !sessions) throw new Error("decoder not initialised");
  const embedding = new ort.Tensor("float32", data, EMBEDDING_DIMS);
  const prepared = await sessions.prepare.run({ [BROWSER_DECODER_INPUTS.imageEmbeddings]: embedding });
  // Both decoder models read only the prepared tensors: the embedding itself is not kept.
  embedding.dispose();
  return { prepared, width, height };
}

async function fetchEmbedding(url: string): Promise<LoadedEmbedding> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    throw new Error(body?.error ?? `embedding: HTTP ${response.status}`);
  }
  const dtype = response.headers.get("X-Embedding-Dtype");
  const [width, height] = (response.headers.get("X-Image-Size") ?? "").split(",").map(Number);
  if (!width || !height) throw new Error("embedding response has no X-Image-Size");
  const bytes = await response.arrayBuffer();
  const data = dtype === "float16" ? fromFloat16(new Uint16Array(bytes)) : new Float32Array(bytes);
  if (data.length !== EMBEDDING_SIZE) {
    throw new Error(`embedding has ${data.length} values, expected ${EMBEDDING_SIZE}`);
  }
  // The per-image half of the decoder runs in the decode chain (sessions are not re-entrant).
  return serialised(() => prepareEmbedding(data, width, height));
}

async function load(msg: LoadRequest): Promise<void> {
  const started = performance.now();
  const cached = embeddings.get(msg.key);
  let value = cached;
  if (!value) {
    let pending = loading.get(msg.key);
    if (!pending) {
      pending = fetchEmbedding(msg.url).finally(() => loading.delete(msg.key));
      loading.set(msg.key, pending);
    }
    value = await pending;
  }
  remember(msg.key, value);
  post({
    type: "loaded",
    id: msg.id,
    key: msg.key,
    width: value.width,
    height: value.height,
    ms: performance.now() - started,
    cached: !!cached,
  });
}

async function run(
  image: LoadedEmbedding,
  prompt: Pick<DecodeRequest, "points" | "box" | "maskInput">,
): Promise<{ lowRes: Float32Array; iou: Float32Array; runMs: number }> {
  if (!ort || !sessions) throw new Error("decoder not initialised");
  const { model, feeds } = browserDecoderFeeds(
    {
      points: prompt.points,
      ...(prompt.box ? { box: prompt.box } : {}),
      ...(prompt.maskInput ? { maskInput: prompt.maskInput } : {}),
    },
    image.width,
    image.height,
    { zeroMask },
  );
  const inputs: Record<string, Ort.Tensor> = { ...image.prepared };
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor("float32", f.data, f.dims);
  const started = performance.now();
  const out = await sessions[model].run(inputs, [
    BROWSER_DECODER_OUTPUTS.lowResMasks,
    BROWSER_DECODER_OUTPUTS.iouPredictions,
  ]);
  const lowRes = out[BROWSER_DECODER_OUTPUTS.lowResMasks];
  const iou = out[BROWSER_DECODER_OUTPUTS.iouPredictions];
  if (!lowRes || !iou) throw new Error("the decoder returned no masks");
  const result = {
    lowRes: (await lowRes.getData()) as Float32Array,
    iou: (await iou.getData()) as Float32Array,
    runMs: performance.now() - started,
  };
  lowRes.dispose();
  iou.dispose();
  return result;
}

async function decode(msg: DecodeRequest): Promise<void> {
  const started = performance.now();
  // Not awaiting a load in progress here: its prepare step queues behind this decode.
  const image = embeddings.get(msg.key);
  if (!image) throw new Error("embedding not loaded");
  const { lowRes, iou, runMs } = await run(image, msg);
  post({ type: "decoded", id: msg.id, lowRes, iou, runMs, decodeMs: performance.now() - started }, [
    lowRes.buffer,
    iou.buffer,
  ]);
}

// Decodes run strictly one after another (ORT sessions are not re-entrant) and after init; embedding
// fetches only wait for init, so prefetching the next image never holds up a click.
let initialised: Promise<void> | null = null;
let chain: Promise<unknown> = Promise.resolve();

/** Runs `task` after everything already in the chain; the chain goes on whether it fails or not. */
function serialised<T>(task: () => Promise<T>): Promise<T> {
  const result = chain.then(task);
  chain = result.catch(() => {});
  return result;
}

const fail = (msg: DecoderRequest, error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  post(msg.type === "init" ? { type: "error", message } : { type: "error", id: msg.id, message });
};

self.onmessage = (event: MessageEvent<DecoderRequest>) => {
  const msg = event.data;
  if (msg.type === "init") {
    initialised = init(msg);
    initialised.catch((error: unknown) => fail(msg, error));
    chain = initialised.catch(() => {});
    return;
  }
  const afterInit = initialised ?? Promise.reject(new Error("decoder not initialised"));
  if (msg.type === "load") {
    afterInit.then(() => load(msg)).catch((error: unknown) => fail(msg, error));
    return;
  }
  serialised(() => afterInit.then(() => decode(msg))).catch((error: unknown) => fail(msg, error));
};
