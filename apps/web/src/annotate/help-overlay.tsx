"use client";

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
  ["Delete", "delete the selected mask"],
  ["C", "cut out the selected mask as PNG"],
  ["N", "next image"],
  ["Wheel / + / -", "zoom"],
  ["Arrows / middle-drag", "pan"],
  ["0", "fit the image"],
  ["?", "this help"],
];

export function HelpOverlay({ shortcuts, onClose }: { shortcuts: typeof SHORTCUTS; onClose: () => void }) {
  return (
    <div
      className="overlay"
      role="dialog"
      aria-modal="true"
      aria-labelledby="help-title"
      data-testid="help-overlay"
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
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
