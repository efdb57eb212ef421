import { readFile } from "node:fs/promises";
import path from "node:path";
import internals from "@prisma/internals";
import { repoRoot } from "@sas/config";

// `@prisma/internals` parses schema.prisma with Prisma's own WASM engine, offline; its types are loose,
// so the few DMMF fields the drift check reads are typed here.
export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}

export interface DmmfIndex {
  model: string;
  type: "id" | "normal" | "unique" | "fulltext";
  isDefinedOnField: boolean;
  dbName?: string | null;
  fields: { name: string }[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

export const schemaPath = path.join(repoRoot, "prisma", "schema.prisma");

export async function loadDatamodel(file = schemaPath): Promise<Datamodel> {
  const datamodel = await readFile(file, "utf8");
  const dmmf = await internals.getDMMF({ datamodel });
  return dmmf.datamodel as unknown as Datamodel;
}
