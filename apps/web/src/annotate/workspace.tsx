"use client";

/**
 * The assisted-manual annotation screen: SAM prompts decoded in the browser, brush and eraser, undo/redo,
 * accept with timing, and every write through the persistent outbox so no work is lost. The work lives in
 * hooks, one per concern: the decoder session (use-decoder-session), the pointer and look-ahead
 * (use-prompt-pointer), the draft and its history (use-draft), saving (use-saving over use-mask-writes,
 * payloads built by payloads.ts) and the drawn overlays (use-mask-overlays). This file wires them together
 * and lays out the screen.
 */
import { lowResContentSize } from "@sas/sam";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTRPC } from "../trpc/client";
import type { CanvasViewHandle } from "./canvas-view";
import { formatCoverage } from "./coverage";
import { cutoutPng, downloadBlob } from "./cutout";
import { isEmptyDraft, offersChoices, withCandidate } from "./draft";
import { HelpOverlay } from "./help-overlay";
import { LoadingProgress } from "./loading-progress";
import { MaskList } from "./mask-list";
import { autoMaskColor, maskColor } from "./mask-paint";
import { formatIou } from "./payloads";
import { markOpen } from "./perf";
import { SHORTCUTS, type ShortcutAction } from "./shortcuts";
import { useDecoderSession } from "./use-decoder-session";
import { useDraft } from "./use-draft";
import { prefetchImage, useLoadedImage } from "./use-loaded-image";
import { useMaskOverlays } from "./use-mask-overlays";
import { useMaskWrites } from "./use-mask-writes";
import { useBrowserOnline } from "./use-online";
import { type Tool, usePromptPointer } from "./use-prompt-pointer";
import { useSaving } from "./use-saving";
import { useShortcutKeys } from "./use-shortcut-keys";
import { WorkflowBar } from "./workflow-bar";

const rgbCss = ([r, g, b]: readonly [number, number, number]) => `rgb(${r},${g},${b})`;

const CanvasView = dynamic(() => import("./canvas-view").then((m) => m.CanvasView), { ssr: false });

const TOOL_NAMES: Record<Tool, string> = { prompt: "SAM (P)", brush: "Brush (B)", eraser: "Eraser (E)" };

export function AnnotationWorkspace(props: {
  imageId: string;
  /** The decoder's model version as the server found it, so loading starts before the first query. */
  modelVersionId?: string | null;
  /** The decoder runtime's content hash (server/ort-runtime.ts): its files' URLs carry it. */
  ortVersion?: string;
}) {
  const { imageId } = props;
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const data = useQuery({ ...trpc.annotate.image.queryOptions({ imageId }), staleTime: 30_000 });
  const me = useQuery(trpc.me.get.queryOptions());
  const ws = data.data;
  const width = ws?.image.width ?? 1;
  const height = ws?.image.height ?? 1;
  const { img, error: imageError } = useLoadedImage(ws ? `/api/images/${imageId}/file` : null);

  const canvas = useRef<CanvasViewHandle>(null);
  const [tool, setTool] = useState<Tool>("prompt");
  const [brushRadius, setBrushRadius] = useState(12);
  const [hoverEnabled, setHoverEnabled] = useState(true);
  const [selected, setSelected] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [showUncovered, setShowUncovered] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // Every delete asks first (the list's button and the Del key): the mask waiting for that answer.
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);

  const session = useDecoderSession({
    imageId,
    modelVersionId: ws?.modelVersionId ?? props.modelVersionId ?? null,
    ortVersion: props.ortVersion ?? null,
    projectId: ws?.image.projectId ?? null,
    onError: setMessage,
  });
  const { decoder, embeddingReady, nextImageId, leaseNext } = session;
  const writes = useMaskWrites(imageId, ws?.masks);
  const { outbox, ops, live, changeStatus, review, relabel, acceptProposal, shown } = writes;
  const redraw = useCallback(() => canvas.current?.redrawDraft(), []);
  const draftApi = useDraft({
    imageId,
    width,
    height,
    imageShown: !!img,
    redraw,
    changeStatus,
    onMessage: setMessage,
  });
  const { draft, draftRef, draftCanvas, history, setDraft, commitDraftChange, undo, redo, clearDraft } =
    draftApi;
  const pointer = usePromptPointer({
    imageId,
    width,
    height,
    tool,
    brushRadius,
    hoverEnabled,
    decoder,
    embeddingReady,
    canvas,
    draft: draftApi,
    onMessage: setMessage,
  });
  const saving = useSaving({
    imageId,
    width,
    height,
    masks: ws?.masks,
    draft: draftApi,
    writes,
    onMessage: setMessage,
  });
  const { accept } = saving;
  const { overlay, coverage, uncovered, base } = useMaskOverlays({
    shown,
    selected,
    width,
    height,
    active: !!ws,
    showUncovered,
    correctingRle: draft.correcting?.rle ?? null,
  });

  const decoderReady = session.decoderInfo !== null;
  const ready = embeddingReady && decoderReady && !!img;
  useEffect(() => {
    if (ws) markOpen("page data");
    if (img) markOpen("image shown");
    if (decoderReady) markOpen("decoder ready");
    if (embeddingReady) markOpen("embedding ready");
  }, [ws, img, decoderReady, embeddingReady]);

  // The next image opens without a wait: its data, its picture and its route are fetched now.
  useEffect(() => {
    if (!nextImageId) return;
    void queryClient.prefetchQuery({
      ...trpc.annotate.image.queryOptions({ imageId: nextImageId }),
      staleTime: 30_000,
    });
    prefetchImage(`/api/images/${nextImageId}/file`);
    router.prefetch(`/annotate/${nextImageId}`);
  }, [nextImageId, queryClient, trpc, router]);

  const deleteMask = useCallback(
    (id: string) => {
      saving.deleteMask(id);
      setSelected((s) => (s === id ? null : s));
    },
    [saving.deleteMask],
  );
  const startCorrection = useCallback(
    (maskId: string, mode: "review" | "edit" = "review") => {
      saving.startCorrection(maskId, mode);
      setSelected(null);
    },
    [saving.startCorrection],
  );

  const cutout = useCallback(
    async (id: string) => {
      const item = shown.find((s) => s.id === id);
      if (!item || !img) return;
      try {
        downloadBlob(
          await cutoutPng(img, item.rle),
          `${ws?.image.filename.replace(/\.[^.]+$/, "") ?? "mask"}-${id.slice(0, 8)}.png`,
        );
      } catch (error) {
        setMessage(`Cut-out failed: ${(error as Error).message}`);
      }
    },
    [shown, img, ws?.image.filename],
  );

  // Moving on never hands the image in: submitting is explicit (the workflow bar's Submit / Skip).
  const goNext = useCallback(async () => {
    const projectId = ws?.image.projectId;
    if (!projectId) return;
    const next = nextImageId
      ? { imageId: nextImageId }
      : await leaseNext.mutateAsync({ projectId, skipImageId: imageId });
    if (next) router.push(`/annotate/${next.imageId}`);
    else setMessage("No more images to annotate in this project. Thank you!");
  }, [ws?.image.projectId, imageId, nextImageId, leaseNext, router]);

  useEffect(() => {
    window.__sasToScreen = (x, y) => canvas.current?.toScreen({ x, y }) ?? null;
    return () => {
      window.__sasToScreen = undefined;
    };
  }, []);

  const actions = useMemo((): Record<ShortcutAction, () => void> => {
    const chooseCandidate = (k: number) => {
      const before = draftRef.current;
      const after = withCandidate(before, k);
      if (after !== before) commitDraftChange(before, after);
    };
    return {
      undo,
      redo,
      accept,
      clear: clearDraft,
      choice1: () => chooseCandidate(1),
      choice2: () => chooseCandidate(2),
      choice3: () => chooseCandidate(3),
      toolPrompt: () => setTool("prompt"),
      toolBrush: () => setTool("brush"),
      toolEraser: () => setTool("eraser"),
      brushSmaller: () => setBrushRadius((r) => Math.max(1, Math.round(r / 1.25))),
      brushLarger: () => setBrushRadius((r) => Math.min(500, Math.round(r * 1.25))),
      toggleHover: () => setHoverEnabled((v) => !v),
      toggleUncovered: () => setShowUncovered((v) => !v),
      nextImage: () => void goNext(),
      deleteSelected: () => selected && setConfirmingDelete(selected),
      cutoutSelected: () => selected && void cutout(selected),
      zoomIn: () => canvas.current?.zoomBy(1.25),
      zoomOut: () => canvas.current?.zoomBy(0.8),
      fit: () => canvas.current?.fit(),
      panLeft: () => canvas.current?.panBy(60, 0),
      panRight: () => canvas.current?.panBy(-60, 0),
      panUp: () => canvas.current?.panBy(0, 60),
      panDown: () => canvas.current?.panBy(0, -60),
      help: () => setHelp((v) => !v),
    };
  }, [accept, undo, redo, clearDraft, commitDraftChange, goNext, selected, cutout, draftRef]);
  useShortcutKeys(actions, accept);
  const closeHelp = useCallback(() => setHelp(false), []);
  const browserOnline = useBrowserOnline();

  // --- render ------------------------------------------------------------------------------------------

  if (data.error) {
    const code = data.error.data?.code;
    return (
      <p role="alert" className="error">
        {code === "NOT_FOUND"
          ? "This image does not exist, or it is not in one of your projects."
          : `The image could not be loaded: ${data.error.message}`}
      </p>
    );
  }
  const loading = (
    <LoadingProgress items={session.loading} what={ws ? "Preparing the decoder…" : "Opening the image…"} />
  );
  // Never a blank page: the screen's frame stays while the image's data comes.
  if (!ws || !draftCanvas)
    return (
      <div className="annotate" data-testid="annotate-workspace" data-embedding-ready="no" data-ready="no">
        <header className="annotate-bar">
          <span className="muted">Opening image…</span>
        </header>
        <div className="annotate-main">
          <div className="annotate-canvas">{loading}</div>
        </div>
      </div>
    );
  if (!ws.modelVersionId) return <p className="error">This project has no active model version.</p>;

  const failing = ops.find((o) => o.error);
  const saveStatus =
    ops.length === 0
      ? "All changes saved"
      : failing
        ? failing.refused
          ? `Not saved: ${failing.error}`
          : `Saving failed (${failing.attempts}×), retrying: ${failing.error}`
        : `Saving ${ops.length}…`;
  const content = lowResContentSize(width, height);
  const choices = offersChoices(draft.decoded);
  const online = live.status === "pending" && browserOnline;
  // Which runtime decodes is for admins and diagnostics (?diag=1), not for annotators.
  const showDiagnostics =
    me.data?.role === "admin" ||
    (typeof window !== "undefined" && new URLSearchParams(window.location.search).has("diag"));
  const info = session.decoderInfo;

  return (
    <div
      className="annotate"
      data-testid="annotate-workspace"
      data-embedding-ready={embeddingReady ? "yes" : "no"}
      data-ready={ready ? "yes" : "no"}
      data-decoder={info?.backend ?? "loading"}
    >
      <header className="annotate-bar">
        <Link href={`/projects/${ws.image.projectId}`}>← {ws.projectName}</Link>
        <strong>{ws.image.filename}</strong>
        <WorkflowBar
          imageId={imageId}
          maskCount={shown.length}
          saving={ops.some((o) => o.imageId === imageId && !o.refused)}
        />
        <span
          className={online ? "live on" : "live off"}
          data-testid="live-state"
          data-online={online ? "yes" : "no"}
          title={
            online
              ? "Live updates from others"
              : "Offline: others' changes show up when the connection is back"
          }
        >
          {online ? "● live" : "○ offline"}
        </span>
        {showDiagnostics ? (
          <span className="muted" data-testid="decoder-state">
            {session.decoderState}
          </span>
        ) : null}
        <span className={`save-status${failing ? " bad" : ""}`} role="status" data-testid="save-status">
          <span>{saveStatus}</span>
          {failing?.refused ? (
            <button type="button" className="link" onClick={() => outbox?.discard(failing.key)}>
              Discard
            </button>
          ) : null}
          {failing && !failing.refused ? (
            <button type="button" className="link" onClick={() => outbox?.retryNow()}>
              Retry now
            </button>
          ) : null}
        </span>
        <button type="button" onClick={() => void goNext()} data-testid="next-image">
          Next image (N)
        </button>
        <button type="button" className="link" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          ?
        </button>
      </header>
      <div className="annotate-main">
        <div className="annotate-tools" role="toolbar" aria-label="Tools">
          {(["prompt", "brush", "eraser"] as const).map((t) => (
            <button
              key={t}
              type="button"
              className={tool === t ? "tool active" : "tool"}
              aria-pressed={tool === t}
              onClick={() => setTool(t)}
              data-testid={`tool-${t}`}
            >
              {TOOL_NAMES[t]}
            </button>
          ))}
          {tool !== "prompt" ? (
            <label>
              Size {brushRadius}px
              <input
                type="range"
                min={1}
                max={200}
                value={brushRadius}
                onChange={(e) => setBrushRadius(Number(e.target.value))}
              />
            </label>
          ) : null}
          <label>
            <input
              type="checkbox"
              checked={hoverEnabled}
              onChange={(e) => setHoverEnabled(e.target.checked)}
            />{" "}
            Hover preview (H)
          </label>
          <button type="button" onClick={undo} disabled={history.past.length === 0} data-testid="undo">
            Undo (Z)
          </button>
          <button type="button" onClick={redo} disabled={history.future.length === 0} data-testid="redo">
            Redo (Y)
          </button>
        </div>
        <div className="annotate-stage">
          {img ? (
            <CanvasView
              ref={canvas}
              image={img}
              width={width}
              height={height}
              overlay={overlay}
              uncovered={uncovered}
              draftCanvas={draftCanvas}
              baseCanvas={draft.decoded ? null : base}
              draftContent={content}
              strokes={draft.strokes}
              liveStroke={pointer.liveStroke}
              points={draft.points}
              box={draft.box}
              dragBox={pointer.dragBox}
              cursor={tool === "prompt" ? "crosshair" : "cell"}
              onPointerDown={pointer.onPointerDown}
              onPointerMove={pointer.onPointerMove}
              onPointerUp={pointer.onPointerUp}
              onPointerLeave={pointer.onPointerLeave}
            />
          ) : (
            <div className="annotate-canvas">
              {imageError ? <p className="error">{imageError}</p> : <p className="lead">Loading image…</p>}
            </div>
          )}
          {!ready && !session.failed ? <div className="annotate-loading">{loading}</div> : null}
        </div>
        <aside className="annotate-side">
          <section aria-label="Current mask" data-testid="draft-panel">
            <h2>Current mask</h2>
            {isEmptyDraft(draft) ? (
              <p className="muted">Click the object (right-click or Alt-click: background), or drag a box.</p>
            ) : (
              <p data-testid="draft-summary">
                {draft.points.length} point{draft.points.length === 1 ? "" : "s"}
                {draft.box ? " + box" : ""}
                {draft.strokes.length
                  ? ` + ${draft.strokes.length} stroke${draft.strokes.length === 1 ? "" : "s"}`
                  : ""}
                {draft.decoded ? ` · predicted IoU ${formatIou(draft.decoded.iou[draft.candidate])}` : ""}
              </p>
            )}
            {choices && draft.decoded ? (
              <fieldset className="choices" aria-label="Mask choices">
                {[1, 2, 3].map((k) => (
                  <button
                    key={k}
                    type="button"
                    aria-pressed={draft.candidate === k}
                    onClick={() => commitDraftChange(draft, withCandidate(draft, k))}
                    data-testid={`choice-${k}`}
                  >
                    {k}: {formatIou(draft.decoded?.iou[k])}
                  </button>
                ))}
              </fieldset>
            ) : null}
            <input
              type="text"
              placeholder="Label (optional)"
              value={draft.label}
              maxLength={200}
              data-draft-label=""
              data-testid="draft-label"
              onChange={(e) => setDraft({ ...draftRef.current, label: e.target.value })}
            />
            <div className="row">
              <button type="button" onClick={accept} disabled={isEmptyDraft(draft)} data-testid="accept">
                {draft.correcting?.mode === "edit"
                  ? "Save fix (Enter)"
                  : draft.correcting
                    ? "Save correction (Enter)"
                    : "Accept (Enter)"}
              </button>
              <button type="button" className="link" onClick={clearDraft} disabled={isEmptyDraft(draft)}>
                Clear (Esc)
              </button>
            </div>
          </section>
          {message ? (
            <p className="notice" role="status" data-testid="annotate-message">
              {message}
            </p>
          ) : null}
          <section aria-label="Coverage" className="coverage" data-testid="coverage-panel">
            <h2>
              Coverage{" "}
              <strong
                data-testid="coverage"
                data-share={coverage.share.toFixed(4)}
                title={`${coverage.coveredPixels.toLocaleString()} of ${(width * height).toLocaleString()} pixels under a mask`}
              >
                {formatCoverage(coverage.share)}
              </strong>
            </h2>
            <progress max={1} value={coverage.share} aria-label="Share of the image under a mask" />
            <button
              type="button"
              className="secondary"
              aria-pressed={showUncovered}
              onClick={() => setShowUncovered((v) => !v)}
              data-testid="toggle-uncovered"
            >
              {showUncovered ? "Hide uncovered (U)" : "Show uncovered (U)"}
            </button>
            <ul className="legend mask-legend" data-testid="mask-legend">
              <li>
                <span
                  className="swatch"
                  style={{
                    background: `linear-gradient(90deg, ${[0, 1, 2, 3].map((i) => rgbCss(maskColor(i))).join(", ")})`,
                  }}
                  aria-hidden
                />{" "}
                drawn
              </li>
              <li>
                <span className="swatch" style={{ background: rgbCss(autoMaskColor(0)) }} aria-hidden />{" "}
                automatic
              </li>
              <li>
                <span
                  className="swatch swatch-proposed"
                  style={{ borderColor: rgbCss(autoMaskColor(0)) }}
                  aria-hidden
                />{" "}
                proposed: accept, fix or delete
              </li>
              {showUncovered ? (
                <li>
                  <span className="swatch swatch-uncovered" aria-hidden /> uncovered
                </li>
              ) : null}
            </ul>
          </section>
          <MaskList
            items={shown}
            selected={selected}
            meId={me.data?.id ?? null}
            canEditAll={ws.canEditAll}
            canReview={ws.canReview}
            maskModelVersions={ws.maskModelVersions}
            embeddingModelVersion={ws.modelVersionName}
            onApprove={(id) => review(id, "approved")}
            onReject={(id, reason) => review(id, "rejected", reason)}
            onCorrect={startCorrection}
            onAcceptProposal={acceptProposal}
            onFix={(id) => startCorrection(id, "edit")}
            onSelect={setSelected}
            onDelete={deleteMask}
            onRestore={(id) => changeStatus("restore", id)}
            confirmingDelete={confirmingDelete}
            onConfirmingDelete={setConfirmingDelete}
            onRelabel={relabel}
            onCutout={(id) => void cutout(id)}
          />
        </aside>
      </div>
      {help ? <HelpOverlay shortcuts={SHORTCUTS} onClose={closeHelp} /> : null}
    </div>
  );
}
