/// <reference lib="webworker" />
/**
 * The SAM decoder in a Web Worker: onnxruntime-web loaded from the app's own /ort/ route (WASM with SIMD
 * and threads when the page is cross-origin isolated, WebGPU when a real adapter exists), one session per
 * decoder part, and the last few images kept as their `prepare` outputs (float32 tensors).
 *
 * Opening is one critical path, so nothing on it waits for what it does not need: the graph list, the GPU
 * probe, the runtime and the embedding start at once; the `prepare` session is created first (small
 * graph) and prepares the embedding before the `click` session is created; `ready` follows the click
 * session. There is no warm-up decode on a blank image: the real `prepare` run is the first one (the
 * first click still pays the click graph's first run). Starting ORT's WASM early (on a one-node graph)
 * was tried and measured slower: its start-up holds this thread, which also reads the graphs.
 */
import {
  BROWSER_DECODER_INPUTS,
  BROWSER_DECODER_OUTPUTS,
  type BrowserDecoderPart,
  browserDecoderFeeds,
  fromFloat16,
  SAM_LOW_RES_SIZE,
} from "@sas/sam";
import type * as Ort from "onnxruntime-web";
import { forgetOtherGraphs, graphBytes, readWithProgress } from "./downloads";
import type {
  DecodeRequest,
  DecoderRequest,
  DecoderResponse,
  GraphFile,
  InitRequest,
  LoadRequest,
} from "./protocol";

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
let prepareSession: Ort.InferenceSession | null = null;
let clickSession: Ort.InferenceSession | null = null;
const embeddings = new Map<string, LoadedEmbedding>();
const loading = new Map<string, Promise<LoadedEmbedding>>();
const zeroMask = new Float32Array(SAM_LOW_RES_SIZE * SAM_LOW_RES_SIZE);

const post = (msg: DecoderResponse, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

const mark = (step: string) =>
  post({ type: "mark", step, epochMs: performance.timeOrigin + performance.now() });

/** Progress of one file, posted at most every PROGRESS_MS (and always at the end). */
const PROGRESS_MS = 100;
function progressOf(id: string, label: string, report = true) {
  let last = 0;
  let cached = false;
  return {
    fromCache(value: boolean) {
      cached = value;
    },
    bytes(loaded: number, total: number, done = false) {
      if (!report) return;
      const now = performance.now();
      if (!done && now - last < PROGRESS_MS) return;
      last = now;
      post({ type: "progress", item: { id, label, loadedBytes: loaded, totalBytes: total, done, cached } });
    },
  };
}

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

const GRAPH_LABELS: Record<BrowserDecoderPart, string> = {
  prepare: "image decoder",
  click: "click decoder",
  refine: "refinement decoder",
};

/**
 * onnxruntime-web, loaded at run time from the app's own route rather than bundled, every file under its
 * content-hashed URL (immutable: the browser keeps the WASM and its compiled code). The WASM binary is
 * fetched here first, for the progress bar; ORT's own streaming compile (with the first session) then
 * reads it from the HTTP cache.
 */
async function loadRuntime(msg: InitRequest, gpu: boolean): Promise<typeof Ort> {
  const url = (file: string) => `${msg.ortBase}${file}?v=${encodeURIComponent(msg.ortVersion)}`;
  const wasm = url(gpu ? "ort-wasm-simd-threaded.jsep.wasm" : "ort-wasm-simd-threaded.wasm");
  const progress = progressOf("runtime", "decoder runtime");
  const downloaded = fetch(wasm).then(async (r) => {
    if (!r.ok) throw new Error(`decoder runtime: HTTP ${r.status}`);
    const bytes = await readWithProgress(r, (loaded, total) => progress.bytes(loaded, total));
    progress.bytes(bytes.byteLength, bytes.byteLength, true);
    mark("runtime downloaded");
  });
  const [runtime] = await Promise.all([
    import(
      /* webpackIgnore: true */ /* turbopackIgnore: true */ url(
        gpu ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs",
      )
    ) as Promise<typeof Ort>,
    downloaded,
  ]);
  runtime.env.wasm.wasmPaths = {
    mjs: url(gpu ? "ort-wasm-simd-threaded.jsep.mjs" : "ort-wasm-simd-threaded.mjs"),
    wasm,
  };
  runtime.env.wasm.numThreads = self.crossOriginIsolated
    ? Math.max(1, Math.min(msg.threads, navigator.hardwareConcurrency || 1))
    : 1;
  return runtime;
}

async function loadGraph(graph: GraphFile): Promise<Uint8Array> {
  const progress = progressOf(graph.part, GRAPH_LABELS[graph.part]);
  const { bytes, fromCache } = await graphBytes(graph, (loaded, total) => progress.bytes(loaded, total));
  progress.fromCache(fromCache);
  progress.bytes(bytes.byteLength, bytes.byteLength, true);
  mark(`${graph.part} graph ${fromCache ? "read from cache" : "downloaded"}`);
  return bytes;
}

/** The sessions, each created as soon as its graph and the runtime are there; refine after `ready`. */
let executionProviders: string[] = ["wasm"];
let refineGraph: GraphFile | null = null;
let refineBytes: Promise<Uint8Array> | null = null;

/** A graph shipped pre-optimised is loaded as it is; others get onnxruntime's full optimisation here. */
const optionsFor = (graph: GraphFile): Ort.InferenceSession.SessionOptions => ({
  executionProviders,
  graphOptimizationLevel: graph.preOptimized ? "disabled" : "all",
});
let refineSession: Promise<Ort.InferenceSession> | null = null;

async function listGraphs(url: string): Promise<GraphFile[]> {
  const listed = await fetch(url, { credentials: "same-origin" });
  if (!listed.ok) throw new Error(`decoder graphs: HTTP ${listed.status}`);
  const { graphs } = (await listed.json()) as { graphs: GraphFile[] };
  mark("graph list");
  return graphs;
}

/**
 * Creates the sessions; `onPrepareSession` is called as soon as the `prepare` one exists (embeddings
 * can be prepared from then on, while the click session is still being created).
 */
async function init(msg: InitRequest, onPrepareSession: () => void): Promise<void> {
  const started = performance.now();
  mark("decoder worker started");
  // The graph list does not depend on the GPU probe, nor the runtime on the list: all start at once.
  const listed = listGraphs(msg.graphsUrl);
  listed.catch(() => {});
  const gpu = msg.preferWebGpu && (await realGpu());
  executionProviders = gpu ? ["webgpu", "wasm"] : ["wasm"];
  const runtimeReady = loadRuntime(msg, gpu);
  runtimeReady.catch(() => {});
  const graphs = await listed;
  const byPart = (part: BrowserDecoderPart) => {
    const g = graphs.find((x) => x.part === part);
    if (!g) throw new Error(`the server lists no ${part} decoder graph`);
    return g;
  };
  void forgetOtherGraphs(graphs, self.location.origin).catch(() => {});
  // Everything downloads at once; each session starts when its bytes and the runtime are there.
  const prepareBytes = loadGraph(byPart("prepare"));
  const clickBytes = loadGraph(byPart("click"));
  clickBytes.catch(() => {});
  // The refinement graph is fetched once the decoder is ready (below), not competing with these.
  refineGraph = byPart("refine");
  const runtime = await runtimeReady;
  ort = runtime;
  prepareSession = await runtime.InferenceSession.create(await prepareBytes, optionsFor(byPart("prepare")));
  mark("prepare session created");
  onPrepareSession();
  // Creating a session runs in WASM on this thread: an embedding that arrived meanwhile is prepared first.
  const clickGraph = await clickBytes;
  await serialised(async () => {
    clickSession = await runtime.InferenceSession.create(clickGraph, optionsFor(byPart("click")));
  });
  mark("click session created");
  post({
    type: "ready",
    backend: gpu ? "webgpu" : "wasm",
    threads: runtime.env.wasm.numThreads ?? 1,
    loadMs: performance.now() - started,
  });
  // Now the refinement graph: its download no longer competes with the first mask.
  refineBytes = loadGraph(byPart("refine"));
  refineBytes.catch(() => {});
}

/**
 * The refinement decoder (prompts with the previous mask) is created after the first mask is shown, or
 * when a refinement needs it, whichever comes first: creating it takes a second of CPU that would
 * otherwise stand between opening the page and the first mask. Runs in the decode chain.
 */
function refine(): Promise<Ort.InferenceSession> {
  refineSession ??= (async () => {
    if (!ort || !refineGraph) throw new Error("decoder not initialised");
    const bytes = await (refineBytes ?? loadGraph(refineGraph));
    const session = await ort.InferenceSession.create(bytes, optionsFor(refineGraph));
    refineBytes = null;
    refineGraph = null;
    mark("refine session created");
    return session;
  })();
  return refineSession;
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
  if (!ort || !prepareSession) throw new Error("decoder not initialised");
  const embedding = new ort.Tensor("float32", data, EMBEDDING_DIMS);
  const prepared = await prepareSession.run({ [BROWSER_DECODER_INPUTS.imageEmbeddings]: embedding });
  // Both decoder models read only the prepared tensors: the embedding itself is not kept.
  embedding.dispose();
  return { prepared, width, height };
}

async function fetchEmbedding(url: string, report: boolean): Promise<LoadedEmbedding> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    throw new Error(body?.error ?? `embedding: HTTP ${response.status}`);
  }
  const dtype = response.headers.get("X-Embedding-Dtype");
  const [width, height] = (response.headers.get("X-Image-Size") ?? "").split(",").map(Number);
  if (!width || !height) throw new Error("embedding response has no X-Image-Size");
  const progress = progressOf("embedding", "image embedding", report);
  const bytes = await readWithProgress(response, (loaded, total) => progress.bytes(loaded, total));
  progress.bytes(bytes.byteLength, bytes.byteLength, true);
  if (report) mark("embedding downloaded");
  const data =
    dtype === "float16"
      ? fromFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2))
      : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (data.length !== EMBEDDING_SIZE) {
    throw new Error(`embedding has ${data.length} values, expected ${EMBEDDING_SIZE}`);
  }
  // The per-image half of the decoder runs in the decode chain (sessions are not re-entrant), as soon as
  // the prepare session exists; a prefetched image's waits for the whole decoder, so that it never comes
  // before the click session on the way to the first mask.
  if (!report) await initialised;
  const prepared = await serialised(() => prepareEmbedding(data, width, height));
  if (report) mark("embedding prepared");
  return prepared;
}

async function load(msg: LoadRequest): Promise<void> {
  const started = performance.now();
  const cached = embeddings.get(msg.key);
  let value = cached;
  if (!value) {
    let pending = loading.get(msg.key);
    if (!pending) {
      pending = fetchEmbedding(msg.url, msg.report).finally(() => loading.delete(msg.key));
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
  if (!ort || !clickSession) throw new Error("decoder not initialised");
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
  const session = model === "click" ? clickSession : await refine();
  const out = await session.run(inputs, [
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
  // The first mask is out: now the refinement decoder, in the chain, between decodes.
  if (!refineSession) void serialised(refine).catch(() => {});
}

// Decodes run strictly one after another (ORT sessions are not re-entrant) and after init; embeddings are
// fetched at once and prepared in the chain once the prepare session exists (the click session is created
// in the chain too), so prefetching the next image never holds up a click.
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
    let onPrepareSession = () => {};
    const prepareReady = new Promise<void>((resolve) => {
      onPrepareSession = resolve;
    });
    initialised = init(msg, onPrepareSession);
    initialised.catch((error: unknown) => fail(msg, error));
    // A failed init lets the chain go on: what is queued then fails with "decoder not initialised".
    chain = Promise.race([prepareReady, initialised]).catch(() => {});
    return;
  }
  const afterInit = initialised ?? Promise.reject(new Error("decoder not initialised"));
  if (msg.type === "load") {
    // The download starts now, alongside the decoder's; its prepare step waits for init.
    (initialised ? load(msg) : afterInit).catch((error: unknown) => fail(msg, error));
    return;
  }
  // Waiting for init outside the chain, which creates the click session: in order, as they came.
  afterInit.then(() => serialised(() => decode(msg))).catch((error: unknown) => fail(msg, error));
};
