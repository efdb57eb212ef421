import { describe, expect, it } from "vitest";
import { SHORTCUTS, shortcutFor } from "./shortcuts";

const press = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }> = {}) =>
  shortcutFor({ key, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });

describe("shortcutFor", () => {
  it("maps the keys the help overlay lists", () => {
    expect(press("Enter")).toBe("accept");
    expect(press("a")).toBe("accept");
    expect(press("Escape")).toBe("clear");
    expect([press("1"), press("2"), press("3")]).toEqual(["choice1", "choice2", "choice3"]);
    expect([press("b"), press("e"), press("p")]).toEqual(["toolBrush", "toolEraser", "toolPrompt"]);
    expect([press("["), press("]")]).toEqual(["brushSmaller", "brushLarger"]);
    expect([press("n"), press("c"), press("Delete"), press("?")]).toEqual([
      "nextImage",
      "cutoutSelected",
      "deleteSelected",
      "help",
    ]);
    expect(press("ArrowLeft")).toBe("panLeft");
    expect(press("B")).toBe("toolBrush");
    expect([press("u"), press("U")]).toEqual(["toggleUncovered", "toggleUncovered"]);
  });

  it("undo/redo with and without modifiers; other modified keys stay the browser's", () => {
    expect(press("z")).toBe("undo");
    expect(press("y")).toBe("redo");
    expect(press("z", { ctrlKey: true })).toBe("undo");
    expect(press("z", { metaKey: true, shiftKey: true })).toBe("redo");
    expect(press("y", { ctrlKey: true })).toBe("redo");
    expect(press("c", { ctrlKey: true })).toBeNull();
    expect(press("x")).toBeNull();
  });

  it("every key named in the help maps to an action", () => {
    const named = SHORTCUTS.flatMap(([keys]) => keys.split(" / "))
      .filter((k) => /^[A-Z0-9[\]?+-]$|^(Enter|Esc|Delete)$/.test(k))
      .map((k) => (k === "Esc" ? "Escape" : k));
    expect(named.length).toBeGreaterThan(10);
    for (const k of named) expect(press(k), k).not.toBeNull();
  });
});
