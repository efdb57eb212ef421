export * from "./client";
export * from "./domain/assignments";
export * from "./domain/embeddings";
export * from "./domain/images";
export * from "./domain/model-versions";
export * from "./domain/users";
export * from "./generated/prisma/client";
export * from "./health";
