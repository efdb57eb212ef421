/**
 * The annotation screen's keyboard: which key does what. One table, read by the key handler and by the
 * help overlay, so the two never disagree.
 */
export type ShortcutAction =
  | "undo"
  | "redo"
  | "accept"
  | "clear"
  | "choice1"
  | "choice2"
  | "choice3"
  | "toolPrompt"
  | "toolBrush"
  | "toolEraser"
  | "brushSmaller"
  | "brushLarger"
  | "toggleHover"
  | "toggleUncovered"
  | "nextImage"
  | "deleteSelected"
  | "cutoutSelected"
  | "zoomIn"
  | "zoomOut"
  | "fit"
  | "panLeft"
  | "panRight"
  | "panUp"
  | "panDown"
  | "help";

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/** The action a key press asks for, or null for keys the screen leaves alone. */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  const key = e.key.toLowerCase();
  if (e.ctrlKey || e.metaKey) {
    if (key === "z") return e.shiftKey ? "redo" : "undo";
    if (key === "y") return "redo";
    return null;
  }
  return PLAIN_KEYS[key] ?? null;
}

const PLAIN_KEYS: Record<string, ShortcutAction> = {
  enter: "accept",
  a: "accept",
  escape: "clear",
  "1": "choice1",
  "2": "choice2",
  "3": "choice3",
  z: "undo",
  y: "redo",
  p: "toolPrompt",
  v: "toolPrompt",
  b: "toolBrush",
  e: "toolEraser",
  "[": "brushSmaller",
  "]": "brushLarger",
  h: "toggleHover",
  u: "toggleUncovered",
  n: "nextImage",
  delete: "deleteSelected",
  backspace: "deleteSelected",
  c: "cutoutSelected",
  "+": "zoomIn",
  "=": "zoomIn",
  "-": "zoomOut",
  "0": "fit",
  arrowleft: "panLeft",
  arrowright: "panRight",
  arrowup: "panUp",
  arrowdown: "panDown",
  "?": "help",
  "/": "help",
};

/** What the help overlay lists: mouse gestures first, then the keys above, grouped by action. */
export const SHORTCUTS: readonly (readonly [keys: string, action: string])[] = [
  ["Click", "foreground point"],
  ["Right-click / Alt+click", "background point"],
  ["Drag", "box (combines with points)"],
  ["1 / 2 / 3", "pick one of SAM's masks after the first click"],
  ["Enter / A", "accept the mask"],
  ["Esc", "clear the current mask"],
  ["Z / Ctrl+Z", "undo"],
  ["Y / Ctrl+Shift+Z", "redo"],
  ["P", "SAM prompts"],
  ["B / E", "brush / eraser"],
  ["[ / ]", "smaller / larger brush"],
  ["H", "hover preview on/off"],
  ["U", "highlight what no mask covers yet"],
  ["Delete", "delete the selected mask"],
  ["C", "cut out the selected mask as PNG"],
  ["N", "next image"],
  ["Wheel / + / -", "zoom"],
  ["Arrows / middle-drag", "pan"],
  ["0", "fit the image"],
  ["?", "this help"],
];
