"use client";

/**
 * The canvases drawn over the image from saved masks: every mask in its colour (the selected one
 * highlighted, proposals dashed), what no mask covers (U), and a saved mask being corrected.
 */
import type { CocoRle } from "@sas/sa1b";
import { useMemo } from "react";
import { coverageOf, paintUncovered } from "./coverage";
import { colorForMask, paintMask, paintOverlay } from "./mask-paint";
import type { ShownMask } from "./use-mask-writes";

function toCanvas(data: ImageData): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = data.width;
  c.height = data.height;
  c.getContext("2d")?.putImageData(data, 0, 0);
  return c;
}

export function useMaskOverlays(args: {
  shown: readonly ShownMask[];
  selected: string | null;
  width: number;
  height: number;
  /** The image's data is there (nothing is drawn before). */
  active: boolean;
  showUncovered: boolean;
  correctingRle: CocoRle | null;
}) {
  const { shown, selected, width, height, active, showUncovered, correctingRle } = args;
  const overlay = useMemo(() => {
    if (!active || typeof document === "undefined") return null;
    return toCanvas(
      paintOverlay(
        shown.map((s, i) => ({
          rle: s.rle,
          color: colorForMask(s.source, i),
          highlighted: s.id === selected,
          proposed: s.proposed,
        })),
        width,
        height,
      ),
    );
  }, [shown, selected, active, width, height]);

  // Coverage changes only when masks come, go or change pixels, not on every outbox tick or selection.
  const maskSetKey = shown.map((s) => `${s.id}:${s.mask?.version ?? 0}`).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed per mask set (maskSetKey), not per render
  const coverage = useMemo(
    () =>
      coverageOf(
        shown.map((s) => s.rle),
        width,
        height,
      ),
    [maskSetKey, width, height],
  );
  const uncovered = useMemo(() => {
    if (!showUncovered || !active || typeof document === "undefined") return null;
    return toCanvas(paintUncovered(coverage.union, width, height));
  }, [showUncovered, coverage, active, width, height]);

  // The saved mask a reviewer is correcting, shown until SAM prompts replace it.
  const base = useMemo(() => {
    if (!correctingRle || typeof document === "undefined") return null;
    return toCanvas(paintMask(correctingRle));
  }, [correctingRle]);

  return { overlay, coverage, uncovered, base };
}
