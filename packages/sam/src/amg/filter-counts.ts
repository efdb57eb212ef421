/**
 * The generator's stages in order; `filterCounts[stage]` is how many proposals were left after it.
 * `candidates` counts every multimask candidate decoded (3 per point, as SAM's multimask output).
 */
export const FILTER_STAGES = [
  "candidates",
  "predIou",
  "stability",
  "cropEdge",
  "boxNms",
  "cropNms",
  "smallRegions",
  "final",
] as const;

export type FilterStage = (typeof FILTER_STAGES)[number];
export type FilterCounts = Record<FilterStage, number>;

export function emptyFilterCounts(): FilterCounts {
  return Object.fromEntries(FILTER_STAGES.map((s) => [s, 0])) as FilterCounts;
}
