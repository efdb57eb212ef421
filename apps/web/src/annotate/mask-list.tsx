"use client";

import { useState } from "react";
import { colorForMask, type MaskOrigin } from "./mask-paint";
import type { OutboxOp } from "./outbox";
import type { SavedMask } from "./use-mask-writes";

export interface MaskListItem {
  id: string;
  mask: SavedMask | null;
  pending: OutboxOp | null;
  label: string;
  source: MaskOrigin;
  /** An automatic pass's proposal, waiting for Accept, Fix or Delete. */
  proposed: boolean;
}

const sourceNames = { manual: "manual", semi_auto: "semi-auto", auto: "automatic" } as const;

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

function LabelEditor({
  item,
  onRelabel,
}: {
  item: MaskListItem;
  onRelabel: (id: string, label: string) => void;
}) {
  const [value, setValue] = useState(item.label);
  return (
    <input
      type="text"
      value={value}
      maxLength={200}
      aria-label="Label"
      placeholder="no label"
      onChange={(e) => setValue(e.target.value)}
      onBlur={() => value.trim() !== item.label && onRelabel(item.id, value.trim())}
      onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
    />
  );
}

const decisionNames = { approved: "approved", rejected: "rejected", corrected: "corrected" } as const;

/** Approve / reject (with a reason) / correct, for the project's reviewers and managers. */
function ReviewControls(props: {
  id: string;
  onApprove: (id: string) => void;
  onReject: (id: string, reason: string) => void;
  onCorrect: (id: string) => void;
}) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  if (rejecting) {
    return (
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (!reason.trim()) return;
          props.onReject(props.id, reason.trim());
          setRejecting(false);
        }}
      >
        <input
          type="text"
          aria-label="Reason for rejecting"
          placeholder="Why?"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          data-testid="reject-reason"
        />
        <button type="submit" className="link" disabled={!reason.trim()} data-testid="confirm-reject">
          Reject
        </button>
        <button type="button" className="link" onClick={() => setRejecting(false)}>
          Cancel
        </button>
      </form>
    );
  }
  return (
    <span className="review-actions">
      <button type="button" className="link" onClick={() => props.onApprove(props.id)} data-testid="approve">
        Approve
      </button>
      <button type="button" className="link" onClick={() => setRejecting(true)} data-testid="reject">
        Reject
      </button>
      <button type="button" className="link" onClick={() => props.onCorrect(props.id)} data-testid="correct">
        Correct
      </button>
    </span>
  );
}

/** Asks before a delete: a mask is work, and one click must not throw it away. */
function ConfirmDelete(props: { onConfirm: () => void; onCancel: () => void; approved: boolean }) {
  return (
    <span
      className="row confirm-delete"
      role="alertdialog"
      aria-label="Delete this mask?"
      data-testid="confirm-delete"
    >
      <span>{props.approved ? "Delete this approved mask?" : "Delete this mask?"}</span>
      <button type="button" className="danger" onClick={props.onConfirm} data-testid="confirm-delete-yes">
        Delete
      </button>
      <button type="button" className="link" onClick={props.onCancel} data-testid="confirm-delete-no">
        Cancel
      </button>
    </span>
  );
}

/**
 * The image's masks: label, source, author and time spent; own masks (or all, for managers) editable,
 * and automatic ones for everyone who sees the image: a pass's proposals are there to be accepted, fixed
 * or deleted. A rejected mask shows the reviewer's reason (to its author above all: that is what to fix).
 * Every delete asks first and can be undone; an approved mask is marked as protected for annotators (the
 * mask domain refuses their change, and says so).
 */
export function MaskList(props: {
  items: readonly MaskListItem[];
  selected: string | null;
  meId: string | null;
  canEditAll: boolean;
  canReview: boolean;
  onApprove: (id: string) => void;
  onReject: (id: string, reason: string) => void;
  onCorrect: (id: string) => void;
  onAcceptProposal: (id: string) => void;
  onFix: (id: string) => void;
  onSelect: (id: string | null) => void;
  onDelete: (id: string) => void;
  /** Brings a deleted mask back (the Undo after a delete). */
  onRestore?: (id: string) => void;
  /** The mask whose delete waits for confirmation (the Del key asks too), and its setter. */
  confirmingDelete?: string | null;
  onConfirmingDelete?: (id: string | null) => void;
  onRelabel: (id: string, label: string) => void;
  onCutout: (id: string) => void;
  /** Mask id -> name of the model version that made it; the image's embedding's version. */
  maskModelVersions?: Readonly<Record<string, string>>;
  embeddingModelVersion?: string | null;
}) {
  const [ownConfirming, setOwnConfirming] = useState<string | null>(null);
  const confirming = props.confirmingDelete !== undefined ? props.confirmingDelete : ownConfirming;
  const setConfirming = props.onConfirmingDelete ?? setOwnConfirming;
  const [lastDeleted, setLastDeleted] = useState<string | null>(null);
  const confirmDelete = (id: string) => {
    setConfirming(null);
    props.onDelete(id);
    setLastDeleted(id);
  };
  return (
    <section aria-label="Masks on this image">
      {/* Only once the mask is gone: a refused delete (an approved mask) leaves it listed, with the refusal. */}
      {lastDeleted && props.onRestore && !props.items.some((item) => item.id === lastDeleted) ? (
        <p className="notice row" role="status" data-testid="deleted-notice">
          Mask deleted.
          <button
            type="button"
            className="link"
            data-testid="undo-delete"
            onClick={() => {
              props.onRestore?.(lastDeleted);
              setLastDeleted(null);
            }}
          >
            Undo
          </button>
        </p>
      ) : null}
      <h2>
        Masks{" "}
        <span className="muted" data-testid="mask-count">
          {props.items.length}
        </span>
        {props.embeddingModelVersion ? (
          <small className="muted" data-testid="embedding-model-version">
            {" "}
            · embedding: {props.embeddingModelVersion}
          </small>
        ) : null}
      </h2>
      <ul className="mask-list" data-testid="mask-list">
        {props.items.map((item, i) => {
          const m = item.mask;
          const mine = !m || m.authorId === props.meId;
          const automatic = item.source !== "manual";
          const approved = m?.reviewDecision === "approved" || m?.reviewDecision === "corrected";
          // An approved mask is also its reviewers' to change or delete (the mask domain's rule).
          const editable = mine || props.canEditAll || automatic || (approved && props.canReview);
          const [r, g, b] = colorForMask(item.source, i);
          const classes = [props.selected === item.id ? "selected" : "", item.proposed ? "proposed" : ""];
          return (
            <li
              key={item.id}
              className={classes.filter(Boolean).join(" ") || undefined}
              data-testid="mask-item"
              data-mask-id={item.id}
              data-source={item.source}
              data-proposed={item.proposed ? "yes" : "no"}
              data-review={m?.reviewDecision ?? "none"}
            >
              <button
                type="button"
                className="swatch"
                style={{ background: `rgb(${r},${g},${b})` }}
                aria-label="Select"
                onClick={() => props.onSelect(props.selected === item.id ? null : item.id)}
              />
              <div className="mask-meta">
                {editable && m ? (
                  <LabelEditor key={`${item.id}-${m.version}`} item={item} onRelabel={props.onRelabel} />
                ) : (
                  <span>{item.label || <em className="muted">no label</em>}</span>
                )}
                <small className="muted">
                  {m
                    ? automatic
                      ? `${sourceNames[m.source]} · IoU ${m.predictedIou?.toFixed(2) ?? "–"}`
                      : `${sourceNames[m.source]} · ${m.authorName ?? "unknown"} · ${formatDuration(m.activeMs)}`
                    : "saving…"}
                  {props.maskModelVersions?.[item.id] ? (
                    <span data-testid="mask-model-version"> · {props.maskModelVersions[item.id]}</span>
                  ) : null}
                  {item.proposed ? (
                    <span className="badge badge-proposed" data-testid="proposed-badge">
                      {" "}
                      proposed
                    </span>
                  ) : null}
                  {m?.reviewDecision ? (
                    <span className={`badge review-${m.reviewDecision}`} data-testid="review-decision">
                      {" "}
                      {decisionNames[m.reviewDecision]}
                    </span>
                  ) : null}
                  {approved && !props.canReview ? (
                    <span className="muted" title="Only a reviewer or a manager may change or delete it">
                      {" "}
                      · protected
                    </span>
                  ) : null}
                  {item.pending?.error ? (
                    <span className="bad"> · {item.pending.refused ? "refused" : "retrying"}</span>
                  ) : null}
                </small>
                {m?.reviewDecision === "rejected" ? (
                  <small className="bad reject-reason" data-testid="reject-reason-shown">
                    Rejected{m.reviewerName ? ` by ${m.reviewerName}` : ""}:{" "}
                    {m.reviewReason || "no reason given"}
                  </small>
                ) : null}
                {item.pending?.refused && item.pending.error ? (
                  <small className="bad" role="alert" data-testid="mask-refused">
                    {item.pending.error}
                  </small>
                ) : null}
                {item.proposed ? (
                  <span className="review-actions">
                    <button
                      type="button"
                      className="link"
                      onClick={() => props.onAcceptProposal(item.id)}
                      data-testid="accept-proposal"
                    >
                      Accept
                    </button>
                    {props.canReview ? null : (
                      <button
                        type="button"
                        className="link"
                        onClick={() => props.onFix(item.id)}
                        data-testid="fix-proposal"
                      >
                        Fix
                      </button>
                    )}
                  </span>
                ) : null}
                {props.canReview && m ? (
                  <ReviewControls
                    id={item.id}
                    onApprove={props.onApprove}
                    onReject={props.onReject}
                    onCorrect={props.onCorrect}
                  />
                ) : null}
              </div>
              <button
                type="button"
                className="link"
                onClick={() => props.onCutout(item.id)}
                title="Cut out as PNG (C)"
              >
                Cut out
              </button>
              {editable && confirming === item.id ? (
                <ConfirmDelete
                  approved={approved}
                  onConfirm={() => confirmDelete(item.id)}
                  onCancel={() => setConfirming(null)}
                />
              ) : editable ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => setConfirming(item.id)}
                  title="Delete (Del)"
                  data-testid="delete-mask"
                >
                  Delete
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
