"use client";

/**
 * The decoder side of the annotation screen: the shared decoder worker for the project's model version,
 * this image's embedding, what is still loading (for the progress bar), and the next image leased ahead
 * with its embedding prefetched.
 */
import { useMutation } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useTRPC } from "../trpc/client";
import type { LoadItem, ReadyResponse } from "./decoder/protocol";
import { markOpen } from "./perf";
import { decoderFor } from "./services";

export function useDecoderSession(args: {
  imageId: string;
  modelVersionId: string | null;
  /** Versions the runtime's URLs (immutable caching); without it they are revalidated. */
  ortVersion: string | null;
  projectId: string | null;
  onError: (message: string) => void;
}) {
  const { imageId, modelVersionId, ortVersion, projectId, onError } = args;
  const trpc = useTRPC();
  const [decoderInfo, setDecoderInfo] = useState<ReadyResponse | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [embeddingReady, setEmbeddingReady] = useState(false);
  const [nextImageId, setNextImageId] = useState<string | null>(null);
  const [loading, setLoading] = useState<readonly LoadItem[]>([]);
  const decoder = useMemo(
    () =>
      modelVersionId && typeof window !== "undefined" ? decoderFor(modelVersionId, ortVersion ?? "") : null,
    [modelVersionId, ortVersion],
  );

  useEffect(() => {
    if (!decoder) return;
    let live = true;
    setLoading([...decoder.loading.values()]);
    const off = decoder.onProgress((items) => live && setLoading(items));
    decoder.ready.then(
      (info) => {
        window.__sasDecoderInfo = info;
        window.__sasDecoderCounts = decoder.counts;
        // The worker's steps, on this page's clock (ms since navigation), for bench:open.
        for (const m of decoder.marks) markOpen(m.step, m.epochMs - performance.timeOrigin);
        if (live) setDecoderInfo(info);
      },
      (error: Error) => live && setFailed(error.message),
    );
    return () => {
      live = false;
      off();
    };
  }, [decoder]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: onError is a state setter
  useEffect(() => {
    if (!decoder) return;
    let live = true;
    setEmbeddingReady(false);
    decoder.load(imageId, `/api/images/${imageId}/embedding`).then(
      () => {
        for (const m of decoder.marks) markOpen(m.step, m.epochMs - performance.timeOrigin);
        if (live) setEmbeddingReady(true);
      },
      (error: Error) => live && onError(`The image's embedding could not be loaded: ${error.message}`),
    );
    return () => {
      live = false;
    };
  }, [decoder, imageId]);

  // The next image is leased now and its embedding fetched, so "next" is instant.
  const leaseNext = useMutation(trpc.work.next.mutationOptions());
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per image
  useEffect(() => {
    if (!projectId || !decoder) return;
    let live = true;
    leaseNext.mutateAsync({ projectId, skipImageId: imageId }).then(
      (next) => {
        if (!live) return;
        setNextImageId(next?.imageId ?? null);
        if (next)
          void decoder.load(next.imageId, `/api/images/${next.imageId}/embedding`, false).catch(() => {});
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [projectId, imageId, decoder]);

  const decoderState = failed
    ? `decoder failed: ${failed}`
    : decoderInfo
      ? `${decoderInfo.backend}${decoderInfo.backend === "wasm" ? ` · ${decoderInfo.threads} threads` : ""}`
      : "loading decoder…";
  return {
    decoder,
    decoderInfo,
    decoderState,
    failed,
    /** Files of the decoder and of this image still loading or loaded, for the progress bar. */
    loading: loading.filter((i) => i.id !== "embedding" || !embeddingReady),
    embeddingReady,
    nextImageId,
    leaseNext,
  };
}
