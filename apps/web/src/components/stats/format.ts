/** Display helpers for the statistics pages: fixed precision so the same number always reads the same. */
export const seconds = (value: number | null | undefined) =>
  value === null || value === undefined ? "–" : `${value.toFixed(1)} s`;
export const share = (value: number | null | undefined) =>
  value === null || value === undefined ? "–" : `${(value * 100).toFixed(0)}%`;
export const decimal = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? "–" : value.toFixed(digits);
export const day = (value: Date | string) => new Date(value).toISOString().slice(0, 10);
export const stageNames: Record<string, string> = {
  assisted_manual: "assisted-manual",
  semi_automatic: "semi-automatic",
  fully_automatic: "fully automatic",
};
export const sourceNames: Record<string, string> = { manual: "manual", semi_auto: "semi-auto", auto: "auto" };
/** Chart colours, one per series; readable on white and in print. */
export const palette = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#7c3aed", "#0891b2"];
