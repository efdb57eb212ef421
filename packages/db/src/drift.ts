import type pg from "pg";
import type { Datamodel, DmmfField, DmmfModel } from "./prisma-schema";

/**
 * The database shape the drift check compares: what schema.prisma implies (following Prisma's own
 * naming and type mapping for PostgreSQL) versus what the migrated database really has.
 */
export interface ColumnShape {
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

export interface IndexShape {
  unique: boolean;
  primary: boolean;
  columns: string[];
}

export interface ForeignKeyShape {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableShape {
  columns: Record<string, ColumnShape>;
  indexes: Record<string, IndexShape>;
  foreignKeys: Record<string, ForeignKeyShape>;
}

export interface DatabaseShape {
  enums: Record<string, string[]>;
  tables: Record<string, TableShape>;
}

const scalarTypes: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Decimal: "numeric(65,30)",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Bytes: "bytea",
};

const nativeTypes: Record<string, (args: string[]) => string> = {
  Uuid: () => "uuid",
  Text: () => "text",
  Char: ([n]) => `character(${n ?? 1})`,
  VarChar: ([n]) => (n ? `character varying(${n})` : "character varying"),
  Integer: () => "integer",
  SmallInt: () => "smallint",
  BigInt: () => "bigint",
  Real: () => "real",
  DoublePrecision: () => "double precision",
  Boolean: () => "boolean",
  Timestamp: ([n]) => `timestamp(${n ?? 3}) without time zone`,
  Timestamptz: ([n]) => `timestamp(${n ?? 3}) with time zone`,
  Date: () => "date",
  JsonB: () => "jsonb",
  Json: () => "json",
  ByteA: () => "bytea",
};

// Defaults Prisma fills in on the client; they leave no DEFAULT in the database.
const clientSideDefaults = new Set(["uuid", "cuid", "nanoid", "ulid"]);

const pgIdent = (name: string) =>
  /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;

const referentialActions: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

function columnType(field: DmmfField, enumDbNames: Map<string, string>): string {
  let base: string;
  if (field.kind === "enum") {
    base = pgIdent(enumDbNames.get(field.type) ?? field.type);
  } else if (field.nativeType) {
    const [name, args] = field.nativeType;
    const make = nativeTypes[name];
    if (!make) throw new Error(`drift check does not know native type @db.${name}`);
    base = make(args);
  } else {
    const mapped = scalarTypes[field.type];
    if (!mapped) throw new Error(`drift check does not know Prisma type ${field.type}`);
    base = mapped;
  }
  return field.isList ? `${base}[]` : base;
}

function hasDbDefault(field: DmmfField): boolean {
  if (!field.hasDefaultValue || field.isUpdatedAt) return false;
  const value = field.default;
  if (value && typeof value === "object" && "name" in value) {
    return !clientSideDefaults.has(String((value as { name: unknown }).name));
  }
  return true;
}

export function expectedShape(datamodel: Datamodel): DatabaseShape {
  const tableName = (model: DmmfModel) => model.dbName ?? model.name;
  const models = new Map(datamodel.models.map((model) => [model.name, model]));
  const enumDbNames = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const shape: DatabaseShape = { enums: {}, tables: {} };

  for (const e of datamodel.enums) {
    shape.enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);
  }

  for (const model of datamodel.models) {
    const table = tableName(model);
    const columnOf = new Map(model.fields.map((f) => [f.name, f.dbName ?? f.name]));
    const cols = (names: string[]) => names.map((n) => columnOf.get(n) ?? n);
    const shapeOf: TableShape = { columns: {}, indexes: {}, foreignKeys: {} };

    for (const field of model.fields) {
      if (field.kind === "object") {
        const from = field.relationFromFields ?? [];
        if (from.length === 0) continue;
        const target = models.get(field.type);
        if (!target) throw new Error(`relation ${model.name}.${field.name} points at unknown model`);
        const targetColumns = new Map(target.fields.map((f) => [f.name, f.dbName ?? f.name]));
        const fromFields = from.map((n) => model.fields.find((f) => f.name === n));
        const required = fromFields.every((f) => f?.isRequired);
        const onDelete = field.relationOnDelete ?? (required ? "Restrict" : "SetNull");
        shapeOf.foreignKeys[`${table}_${cols(from).join("_")}_fkey`] = {
          columns: cols(from),
          refTable: tableName(target),
          refColumns: (field.relationToFields ?? []).map((n) => targetColumns.get(n) ?? n),
          onDelete: referentialActions[onDelete] ?? onDelete,
          onUpdate: "CASCADE",
        };
        continue;
      }
      shapeOf.columns[field.dbName ?? field.name] = {
        type: columnType(field, enumDbNames),
        // Prisma creates scalar-list columns without NOT NULL.
        nullable: field.isList || !field.isRequired,
        hasDefault: hasDbDefault(field),
      };
    }

    for (const index of datamodel.indexes.filter((i) => i.model === model.name)) {
      const columns = cols(index.fields.map((f) => f.name));
      if (index.type === "id") {
        const name = model.primaryKey?.name ?? `${table}_pkey`;
        shapeOf.indexes[name] = { unique: true, primary: true, columns };
      } else if (index.type === "unique") {
        shapeOf.indexes[index.dbName ?? `${table}_${columns.join("_")}_key`] = {
          unique: true,
          primary: false,
          columns,
        };
      } else if (index.type === "normal") {
        shapeOf.indexes[index.dbName ?? `${table}_${columns.join("_")}_idx`] = {
          unique: false,
          primary: false,
          columns,
        };
      }
    }
    shape.tables[table] = shapeOf;
  }
  return shape;
}

const deleteActions: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** Reads the live shape of the `public` schema (minus Prisma's migration bookkeeping). */
export async function actualShape(client: pg.ClientBase): Promise<DatabaseShape> {
  const shape: DatabaseShape = { enums: {}, tables: {} };
  const enums = await client.query<{ name: string; values: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' GROUP BY t.typname`);
  for (const row of enums.rows) shape.enums[row.name] = row.values;

  const columns = await client.query<{
    table: string;
    column: string;
    type: string;
    notnull: boolean;
    hasdefault: boolean;
  }>(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS notnull, a.atthasdef AS hasdefault
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> '_prisma_migrations'
    ORDER BY c.relname, a.attnum`);
  const table = (name: string): TableShape => {
    shape.tables[name] ??= { columns: {}, indexes: {}, foreignKeys: {} };
    return shape.tables[name];
  };
  for (const row of columns.rows) {
    table(row.table).columns[row.column] = {
      type: row.type,
      nullable: !row.notnull,
      hasDefault: row.hasdefault,
    };
  }

  const indexes = await client.query<{
    table: string;
    name: string;
    unique: boolean;
    primary: boolean;
    columns: string[];
  }>(`
    SELECT t.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
           array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
    FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`);
  for (const row of indexes.rows) {
    table(row.table).indexes[row.name] = { unique: row.unique, primary: row.primary, columns: row.columns };
  }

  const fks = await client.query<{
    table: string;
    name: string;
    columns: string[];
    reftable: string;
    refcolumns: string[];
    ondelete: string;
    onupdate: string;
  }>(`
    SELECT t.relname AS table, con.conname AS name, rt.relname AS reftable,
           con.confdeltype AS ondelete, con.confupdtype AS onupdate,
           array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
           array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS refcolumns
    FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class rt ON rt.oid = con.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND con.contype = 'f'`);
  for (const row of fks.rows) {
    table(row.table).foreignKeys[row.name] = {
      columns: row.columns,
      refTable: row.reftable,
      refColumns: row.refcolumns,
      onDelete: deleteActions[row.ondelete] ?? row.ondelete,
      onUpdate: deleteActions[row.onupdate] ?? row.onupdate,
    };
  }
  return shape;
}

/** Human-readable differences, one line each; empty when the database matches the schema. */
export function diffShapes(expected: DatabaseShape, actual: DatabaseShape): string[] {
  const problems: string[] = [];
  const compare = <T>(label: (key: string) => string, want: Record<string, T>, have: Record<string, T>) => {
    for (const [key, value] of Object.entries(want)) {
      if (!(key in have)) problems.push(`missing ${label(key)}`);
      else if (JSON.stringify(value) !== JSON.stringify(have[key])) {
        problems.push(
          `${label(key)}: schema.prisma wants ${JSON.stringify(value)}, database has ${JSON.stringify(have[key])}`,
        );
      }
    }
    for (const key of Object.keys(have)) if (!(key in want)) problems.push(`unexpected ${label(key)}`);
  };
  compare((key) => `enum ${key}`, expected.enums, actual.enums);
  const tableNames = (shape: DatabaseShape) =>
    Object.fromEntries(Object.keys(shape.tables).map((t) => [t, true]));
  compare((key) => `table ${key}`, tableNames(expected), tableNames(actual));
  for (const [table, want] of Object.entries(expected.tables)) {
    const have = actual.tables[table];
    if (!have) continue;
    compare((key) => `column ${table}.${key}`, want.columns, have.columns);
    compare((key) => `index ${key} on ${table}`, want.indexes, have.indexes);
    compare((key) => `foreign key ${key} on ${table}`, want.foreignKeys, have.foreignKeys);
  }
  return problems;
}
