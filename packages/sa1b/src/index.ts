export * from "./mask";
