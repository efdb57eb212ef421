// Statistics for the manager dashboard, computed in SQL over the real tables (see packages/db/README.md,
// "Statistics"): time per mask, throughput, review outcomes, dataset statistics, one annotator against the
// project, and the per-mask table behind them.
export * from "./annotator";
export * from "./dataset";
export * from "./filters";
export * from "./mask-table";
export * from "./options";
export * from "./review";
export * from "./throughput";
export * from "./timing";
