import { env } from "@sas/config";
import type { ModelVersion } from "@sas/db";
import { NodeSam } from "@sas/sam/node";

/**
 * One NodeSam per model version per process, loaded on first use (files checked against the hashes
 * the model version recorded). Encodes are serialised: the encoder already uses every core, so two at
 * once only thrash; meanwhile other jobs decode images and write results, which overlaps that work
 * with inference instead of adding it.
 */
const sessions = new Map<string, Promise<NodeSam>>();
let encoderTail: Promise<unknown> = Promise.resolve();

export function samFor(model: ModelVersion): Promise<NodeSam> {
  let session = sessions.get(model.id);
  if (!session) {
    session = NodeSam.load(
      {
        encoderPath: model.encoderPath,
        encoderSha256: model.encoderSha256,
        decoderPath: model.decoderPath,
        decoderSha256: model.decoderSha256,
      },
      { executionProviders: env().ORT_EXECUTION_PROVIDER === "cuda" ? ["cuda", "cpu"] : ["cpu"] },
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

export async function releaseSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map(async (s) => (await s.catch(() => null))?.release()));
}
