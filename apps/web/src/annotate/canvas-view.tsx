"use client";

import type { BoxPrompt, PointPrompt } from "@sas/sam";
/**
 * The annotation canvas: the image, saved masks as one overlay, the draft mask (the decoder's 256x256
 * logits drawn scaled, with brush strokes composited on the same layer), prompts, and pan/zoom.
 * Pointer positions are handed out in original-image pixels.
 */
import type Konva from "konva";
import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from "react";
import { Circle, Image as KImage, Layer, Line, Rect, Stage } from "react-konva";
import type { BrushStroke } from "./draft";
import { DRAFT_COLOR } from "./mask-paint";

const DRAFT_CSS = `rgb(${DRAFT_COLOR.join(",")})`;

export interface ImagePoint {
  x: number;
  y: number;
}

export interface CanvasPointerEvent extends ImagePoint {
  button: number;
  altKey: boolean;
  shiftKey: boolean;
  /** The DOM event's timeStamp, for measuring event-to-paint latency. */
  timeStamp: number;
}

export interface CanvasViewHandle {
  /** Repaints the draft layer now (synchronously), after its canvas changed. */
  redrawDraft(): void;
  zoomBy(factor: number): void;
  panBy(dx: number, dy: number): void;
  fit(): void;
  /** The stage's canvas element, for tests and benchmarks that click at image coordinates. */
  toScreen(p: ImagePoint): ImagePoint;
}

export interface CanvasViewProps {
  image: HTMLImageElement;
  width: number;
  height: number;
  overlay: HTMLCanvasElement | null;
  /** Every pixel no mask covers, translucent; null when not asked for. */
  uncovered: HTMLCanvasElement | null;
  draftCanvas: HTMLCanvasElement;
  /** A saved mask being corrected, at full resolution; drawn under the strokes. */
  baseCanvas: HTMLCanvasElement | null;
  /** Part of the 256x256 draft canvas holding image content. */
  draftContent: { width: number; height: number };
  strokes: readonly BrushStroke[];
  liveStroke: BrushStroke | null;
  points: readonly PointPrompt[];
  box: BoxPrompt | null;
  dragBox: BoxPrompt | null;
  cursor: string;
  onPointerDown(e: CanvasPointerEvent): void;
  onPointerMove(e: CanvasPointerEvent): void;
  onPointerUp(e: CanvasPointerEvent): void;
  onPointerLeave(): void;
}

const MIN_ZOOM = 0.02;
const MAX_ZOOM = 40;

function strokeLine(s: BrushStroke, key: string) {
  const pts =
    s.points.length === 2 ? [s.points[0]!, s.points[1]!, s.points[0]! + 0.01, s.points[1]!] : s.points;
  return (
    <Line
      key={key}
      points={pts}
      stroke={s.mode === "paint" ? DRAFT_CSS : "#000"}
      opacity={1}
      strokeWidth={2 * s.radius}
      lineCap="round"
      lineJoin="round"
      globalCompositeOperation={s.mode === "paint" ? "source-over" : "destination-out"}
      listening={false}
    />
  );
}

export const CanvasView = forwardRef<CanvasViewHandle, CanvasViewProps>(function CanvasView(props, ref) {
  const { image, width, height } = props;
  const container = useRef<HTMLDivElement>(null);
  const stage = useRef<Konva.Stage>(null);
  const draftLayer = useRef<Konva.Layer>(null);
  const [size, setSize] = useState({ width: 800, height: 600 });
  const [view, setView] = useState({ scale: 1, x: 0, y: 0 });
  const panning = useRef<{ x: number; y: number } | null>(null);

  const fitView = useCallback(
    (box = size) => {
      const scale = Math.min(box.width / width, box.height / height) * 0.98;
      setView({ scale, x: (box.width - width * scale) / 2, y: (box.height - height * scale) / 2 });
    },
    [size, width, height],
  );

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const next = {
        width: Math.floor(entry.contentRect.width),
        height: Math.floor(entry.contentRect.height),
      };
      setSize(next);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Fit whenever the image or the available room changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refit only on these changes
  useEffect(() => fitView(size), [image, size.width, size.height]);

  const zoomAround = useCallback((factor: number, at: ImagePoint) => {
    setView((v) => {
      const scale = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.scale * factor));
      const ix = (at.x - v.x) / v.scale;
      const iy = (at.y - v.y) / v.scale;
      return { scale, x: at.x - ix * scale, y: at.y - iy * scale };
    });
  }, []);

  useImperativeHandle(
    ref,
    () => ({
      redrawDraft: () => draftLayer.current?.draw(),
      zoomBy: (factor) => zoomAround(factor, { x: size.width / 2, y: size.height / 2 }),
      panBy: (dx, dy) => setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy })),
      fit: () => fitView(),
      toScreen: (p) => {
        const rect = stage.current?.container().getBoundingClientRect();
        return {
          x: (rect?.left ?? 0) + view.x + p.x * view.scale,
          y: (rect?.top ?? 0) + view.y + p.y * view.scale,
        };
      },
    }),
    [zoomAround, fitView, size, view],
  );

  const toImage = (evt: MouseEvent): CanvasPointerEvent | null => {
    const s = stage.current;
    if (!s) return null;
    s.setPointersPositions(evt);
    const p = s.getRelativePointerPosition();
    if (!p) return null;
    return {
      x: p.x,
      y: p.y,
      button: evt.button,
      altKey: evt.altKey,
      shiftKey: evt.shiftKey,
      timeStamp: evt.timeStamp,
    };
  };

  const onWheel = (e: Konva.KonvaEventObject<WheelEvent>) => {
    e.evt.preventDefault();
    const p = stage.current?.getPointerPosition();
    if (p) zoomAround(e.evt.deltaY < 0 ? 1.15 : 1 / 1.15, p);
  };

  const onMouseDown = (e: Konva.KonvaEventObject<MouseEvent>) => {
    if (e.evt.button === 1 || (e.evt.button === 0 && e.evt.shiftKey && e.evt.ctrlKey)) {
      panning.current = { x: e.evt.clientX, y: e.evt.clientY };
      e.evt.preventDefault();
      return;
    }
    const p = toImage(e.evt);
    if (p) props.onPointerDown(p);
  };
  const onMouseMove = (e: Konva.KonvaEventObject<MouseEvent>) => {
    if (panning.current) {
      const dx = e.evt.clientX - panning.current.x;
      const dy = e.evt.clientY - panning.current.y;
      panning.current = { x: e.evt.clientX, y: e.evt.clientY };
      setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
      return;
    }
    const p = toImage(e.evt);
    if (p) props.onPointerMove(p);
  };
  const onMouseUp = (e: Konva.KonvaEventObject<MouseEvent>) => {
    if (panning.current) {
      panning.current = null;
      return;
    }
    const p = toImage(e.evt);
    if (p) props.onPointerUp(p);
  };

  const invScale = 1 / view.scale;
  const markers = useMemo(
    () =>
      props.points.map((p, i) => (
        <Circle
          // biome-ignore lint/suspicious/noArrayIndexKey: points are only appended or undone
          key={i}
          x={p.x}
          y={p.y}
          radius={6 * invScale}
          fill={p.label === 1 ? "#22c55e" : "#ef4444"}
          stroke="#fff"
          strokeWidth={2 * invScale}
          listening={false}
        />
      )),
    [props.points, invScale],
  );
  const rect = (b: BoxPrompt, dash: boolean) => (
    <Rect
      x={Math.min(b.x0, b.x1)}
      y={Math.min(b.y0, b.y1)}
      width={Math.abs(b.x1 - b.x0)}
      height={Math.abs(b.y1 - b.y0)}
      stroke="#facc15"
      strokeWidth={2 * invScale}
      dash={dash ? [6 * invScale, 4 * invScale] : []}
      listening={false}
    />
  );

  return (
    <div
      ref={container}
      className="annotate-canvas"
      role="application"
      aria-label="Image: click to segment"
      style={{ cursor: props.cursor }}
      data-testid="annotate-canvas"
      onContextMenu={(e) => e.preventDefault()}
      onMouseLeave={() => props.onPointerLeave()}
    >
      <Stage
        ref={stage}
        width={size.width}
        height={size.height}
        scaleX={view.scale}
        scaleY={view.scale}
        x={view.x}
        y={view.y}
        onWheel={onWheel}
        onMouseDown={onMouseDown}
        onMouseMove={onMouseMove}
        onMouseUp={onMouseUp}
      >
        <Layer listening={false}>
          <KImage image={image} width={width} height={height} />
        </Layer>
        <Layer listening={false}>
          {props.uncovered ? <KImage image={props.uncovered} width={width} height={height} /> : null}
          {props.overlay ? <KImage image={props.overlay} width={width} height={height} /> : null}
        </Layer>
        <Layer ref={draftLayer} listening={false} opacity={0.6}>
          {props.baseCanvas ? <KImage image={props.baseCanvas} width={width} height={height} /> : null}
          <KImage
            image={props.draftCanvas}
            crop={{ x: 0, y: 0, width: props.draftContent.width, height: props.draftContent.height }}
            width={width}
            height={height}
          />
          {props.strokes.map((s, i) => strokeLine(s, `s${i}`))}
          {props.liveStroke ? strokeLine(props.liveStroke, "live") : null}
        </Layer>
        <Layer listening={false}>
          {props.box ? rect(props.box, false) : null}
          {props.dragBox ? rect(props.dragBox, true) : null}
          {markers}
        </Layer>
      </Stage>
    </div>
  );
});
