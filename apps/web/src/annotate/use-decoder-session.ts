"use client";

/**
 * The decoder side of the annotation screen: the shared decoder worker for the project's model version,
 * this image's embedding, and the next image leased ahead with its embedding prefetched.
 */
import { useMutation } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useTRPC } from "../trpc/client";
import { decoderFor } from "./services";

export function useDecoderSession(args: {
  imageId: string;
  modelVersionId: string | null;
  projectId: string | null;
  onError: (message: string) => void;
}) {
  const { imageId, modelVersionId, projectId, onError } = args;
  const trpc = useTRPC();
  const [decoderState, setDecoderState] = useState<string>("loading decoder…");
  const [embeddingReady, setEmbeddingReady] = useState(false);
  const [nextImageId, setNextImageId] = useState<string | null>(null);
  const decoder = useMemo(
    () => (modelVersionId && typeof window !== "undefined" ? decoderFor(modelVersionId) : null),
    [modelVersionId],
  );

  useEffect(() => {
    if (!decoder) return;
    let live = true;
    decoder.ready.then(
      (info) => {
        window.__sasDecoderInfo = info;
        window.__sasDecoderCounts = decoder.counts;
        if (live)
          setDecoderState(`${info.backend}${info.backend === "wasm" ? ` · ${info.threads} threads` : ""}`);
      },
      (error: Error) => live && setDecoderState(`decoder failed: ${error.message}`),
    );
    return () => {
      live = false;
    };
  }, [decoder]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: onError is a state setter
  useEffect(() => {
    if (!decoder) return;
    let live = true;
    setEmbeddingReady(false);
    decoder.load(imageId, `/api/images/${imageId}/embedding`).then(
      () => live && setEmbeddingReady(true),
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
        if (next) void decoder.load(next.imageId, `/api/images/${next.imageId}/embedding`).catch(() => {});
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [projectId, imageId, decoder]);

  return { decoder, decoderState, embeddingReady, nextImageId, leaseNext };
}
