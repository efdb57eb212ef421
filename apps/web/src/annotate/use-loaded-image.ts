"use client";

import { useEffect, useState } from "react";

/** The image element for `src`, once decoded; never the previous image while the next one loads. */
export function useLoadedImage(src: string | null) {
  const [loaded, setLoaded] = useState<{ src: string; img: HTMLImageElement } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!src) return;
    const el = new window.Image();
    el.onload = () => setLoaded({ src, img: el });
    el.onerror = () => setError("the image could not be displayed by this browser");
    el.src = src;
    return () => {
      el.onload = null;
      el.onerror = null;
    };
  }, [src]);
  return { img: loaded && loaded.src === src ? loaded.img : null, error };
}

/** Starts fetching and decoding an image the page will show next, so it appears at once. */
export function prefetchImage(src: string): void {
  const el = new window.Image();
  el.src = src;
  el.decode().catch(() => {});
}
