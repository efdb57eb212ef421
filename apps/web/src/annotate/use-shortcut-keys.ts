"use client";

import { useEffect } from "react";
import { type ShortcutAction, shortcutFor } from "./shortcuts";

/**
 * The screen's keyboard shortcuts (see shortcuts.ts). While typing in a field every key is text, except
 * Enter in the draft's label field, which accepts the mask.
 */
export function useShortcutKeys(actions: Record<ShortcutAction, () => void>, acceptFromLabel: () => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (
        target &&
        (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)
      ) {
        if (e.key === "Enter" && target.dataset.draftLabel !== undefined) acceptFromLabel();
        return;
      }
      // A dialog open on top (help, a confirmation) has the keyboard.
      if (target?.closest('[role="dialog"], [role="alertdialog"]')) return;
      const action = shortcutFor(e);
      if (!action) return;
      e.preventDefault();
      actions[action]();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [actions, acceptFromLabel]);
}
