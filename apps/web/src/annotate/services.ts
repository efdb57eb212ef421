"use client";

/**
 * Page-lifetime singletons of the annotation screen: one decoder worker (its warm session survives
 * moving from image to image) and one outbox (shared by every image, so nothing waits on navigation).
 */
import type { AppRouter } from "@sas/api";
import { type TRPCClient, TRPCClientError } from "@trpc/client";
import { createDecoderWorker, DecoderClient } from "./decoder/decoder-client";
import { localStorageStore, Outbox, type OutboxOp, OutboxRefusal } from "./outbox";
import type { OutboxInputs } from "./payloads";

let decoder: DecoderClient | null = null;
let decoderModel: string | null = null;

/**
 * The shared decoder for a model version (a different version replaces the worker). `ortVersion` is the
 * runtime's content hash, put on its URLs (see server/ort-runtime.ts).
 */
export function decoderFor(modelVersionId: string, ortVersion: string): DecoderClient {
  if (decoder && decoderModel === modelVersionId) return decoder;
  decoder?.dispose();
  const params = new URLSearchParams(window.location.search);
  decoder = new DecoderClient(createDecoderWorker(), {
    graphsUrl: `/api/models/${modelVersionId}/decoder`,
    ortBase: `${window.location.origin}/ort/`,
    ortVersion,
    threads: Number(params.get("threads")) || decoderThreads(navigator.hardwareConcurrency || 1),
    preferWebGpu: params.get("ep") !== "wasm",
  });
  decoderModel = modelVersionId;
  return decoder;
}

/**
 * WASM threads for the decoder (`?threads=N` overrides): half the cores, at most 4, as onnxruntime-web
 * itself defaults to. The page's own thread needs a core too, and every extra thread is one more WASM
 * instance to start. On this project's 2-core machine one thread opened the page as fast as two when
 * quiet (`bench:open --variant threads=2`: warm 5.36 s vs 5.34 s, first click 0.71 s vs 0.82 s) and
 * faster under load (warm 8.0 s vs 9.3 s).
 */
export const decoderThreads = (cores: number) => Math.max(1, Math.min(4, Math.ceil(cores / 2)));

/**
 * Whether clicks are decoded ahead where the cursor rests (`?lookahead=0` turns it off, e.g. to measure
 * the decoder itself).
 */
export function lookAheadAllowed(): boolean {
  return new URLSearchParams(window.location.search).get("lookahead") !== "0";
}

/** Codes that mean "this will never succeed as sent": retrying cannot help, the user must decide. */
const REFUSALS = new Set([
  "BAD_REQUEST",
  "CONFLICT",
  "FORBIDDEN",
  "NOT_FOUND",
  "PARSE_ERROR",
  "UNPROCESSABLE_CONTENT",
]);

function reviveTiming(input: Record<string, unknown>): Record<string, unknown> {
  const timing = input.timing as Record<string, unknown> | undefined;
  if (!timing) return input;
  return {
    ...input,
    timing: {
      ...timing,
      startedAt: new Date(String(timing.startedAt)),
      finishedAt: new Date(String(timing.finishedAt)),
    },
  };
}

async function send(client: TRPCClient<AppRouter>, op: OutboxOp): Promise<unknown> {
  // Stored as JSON by `enqueue`, which took each kind's procedure input (OutboxInputs); the server
  // validates it again.
  const input = reviveTiming(op.input);
  try {
    switch (op.kind) {
      case "save":
        return await client.annotate.saveMask.mutate(input as OutboxInputs["save"]);
      case "update":
        return await client.annotate.updateMask.mutate(input as OutboxInputs["update"]);
      case "delete":
        return await client.annotate.deleteMask.mutate(input as OutboxInputs["delete"]);
      case "restore":
        return await client.annotate.restoreMask.mutate(input as OutboxInputs["restore"]);
      case "accept":
        return await client.annotate.acceptMask.mutate(input as OutboxInputs["accept"]);
      case "review":
        return await client.review.decide.mutate(input as OutboxInputs["review"]);
    }
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const code = (error.data as { code?: string } | undefined)?.code;
      if (code && REFUSALS.has(code)) throw new OutboxRefusal(error.message);
      if (code === "UNAUTHORIZED")
        throw new Error("signed out: sign in again (in another tab) and it will be saved");
    }
    throw error;
  }
}

let outbox: Outbox | null = null;
const listeners = new Set<(ops: readonly OutboxOp[]) => void>();
const ackListeners = new Set<(op: OutboxOp, result: unknown) => void>();

export function sharedOutbox(client: TRPCClient<AppRouter>): Outbox {
  if (outbox) return outbox;
  const box = new Outbox({
    store: localStorageStore(window.localStorage),
    send: (op) => send(client, op),
    onChange: (ops) => {
      for (const l of listeners) l(ops);
    },
    onAcked: (op, result) => {
      for (const l of ackListeners) l(op, result);
    },
  });
  window.addEventListener("online", () => box.retryNow());
  outbox = box;
  box.kick();
  return box;
}

export function onOutboxChange(fn: (ops: readonly OutboxOp[]) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onOutboxAck(fn: (op: OutboxOp, result: unknown) => void): () => void {
  ackListeners.add(fn);
  return () => ackListeners.delete(fn);
}
