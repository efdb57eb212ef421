import { env, logger } from "@sas/config";
import type { ModelVersion } from "@sas/db";
import type { PointDecoder } from "@sas/sam";
import {
  BatchPointDecoder,
  type ModelFiles,
  materializeModelFiles,
  NodeSam,
  stockPointDecoder,
} from "@sas/sam/node";
import { storage } from "@sas/storage";

/**
 * One NodeSam per model version per process, loaded on first use (files checked against the hashes
 * the model version recorded). Encodes are serialised: the encoder already uses every core, so two at
 * once only thrash; meanwhile other jobs decode images and write results, which overlaps that work
 * with inference instead of adding it.
 */
const sessions = new Map<string, Promise<NodeSam>>();
let encoderTail: Promise<unknown> = Promise.resolve();

/** The version's files from shared storage, copied into this host's cache and verified (see materializeModelFiles). */
const modelFiles = (model: ModelVersion): Promise<ModelFiles> => materializeModelFiles(model, storage());

const executionProviders = () => (env().ORT_EXECUTION_PROVIDER === "cuda" ? ["cuda", "cpu"] : ["cpu"]);

export function samFor(model: ModelVersion): Promise<NodeSam> {
  let session = sessions.get(model.id);
  if (!session) {
    session = modelFiles(model).then((files) =>
      NodeSam.load(files, { executionProviders: executionProviders() }),
    );
    session.catch(() => sessions.delete(model.id));
    sessions.set(model.id, session);
  }
  return session;
}

/** Runs `work` when no other encode of this process is running. */
export function withEncoder<T>(work: () => Promise<T>): Promise<T> {
  const run = encoderTail.then(work, work);
  encoderTail = run.catch(() => undefined);
  return run;
}

/**
 * The automatic passes' point decoder, one per model version per process: the batched decoder (per-image
 * work once, many points per run) when its graphs derive and load for this model, else the stock
 * multi-mask decoder of `samFor` one batch at a time (same masks, slower), with a warning saying why.
 */
const pointDecoders = new Map<string, Promise<{ decoder: PointDecoder; release(): Promise<void> }>>();

export function pointDecoderFor(model: ModelVersion): Promise<PointDecoder> {
  let entry = pointDecoders.get(model.id);
  if (!entry) {
    entry = modelFiles(model)
      .then((files) => BatchPointDecoder.load(files, { executionProviders: executionProviders() }))
      .then(
        (batch) => ({ decoder: batch, release: () => batch.release() }),
        async (error: Error) => {
          logger("worker").warn(
            { modelVersionId: model.id, err: error.message },
            "batched point decoder unavailable; automatic passes use the stock decoder",
          );
          return { decoder: stockPointDecoder(await samFor(model)), release: async () => undefined };
        },
      );
    entry.catch(() => pointDecoders.delete(model.id));
    pointDecoders.set(model.id, entry);
  }
  return entry.then((e) => e.decoder);
}

export async function releaseSessions(): Promise<void> {
  const all = [...sessions.values()];
  const decoders = [...pointDecoders.values()];
  sessions.clear();
  pointDecoders.clear();
  await Promise.all(decoders.map(async (d) => (await d.catch(() => null))?.release()));
  await Promise.all(all.map(async (s) => (await s.catch(() => null))?.release()));
}
