"use client";

import { useEffect, useRef } from "react";
import type { SHORTCUTS } from "./shortcuts";

/**
 * The keyboard shortcuts, as a modal dialog: Esc, a click outside the card or Close dismisses it, and
 * focus goes back where it was.
 */
export function HelpOverlay({ shortcuts, onClose }: { shortcuts: typeof SHORTCUTS; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    close.current?.focus();
    // Capture phase: Esc closes the dialog and goes no further (it would also clear the draft).
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation();
      onClose();
    };
    window.addEventListener("keydown", onKey, true);
    return () => {
      window.removeEventListener("keydown", onKey, true);
      before?.focus?.();
    };
  }, [onClose]);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the backdrop's click is the pointer twin of Esc (handled above)
    <div
      className="overlay"
      role="dialog"
      aria-modal="true"
      aria-labelledby="help-title"
      data-testid="help-overlay"
      onClick={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="card">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table className="shortcuts">
          <tbody>
            {shortcuts.map(([keys, action]) => (
              <tr key={keys}>
                <th scope="row">
                  <kbd>{keys}</kbd>
                </th>
                <td>{action}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" ref={close} onClick={onClose} data-testid="help-close">
          Close
        </button>
      </div>
    </div>
  );
}
