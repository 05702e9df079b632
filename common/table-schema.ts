/**
 * The DynamoDB key schema of the two tables, defined once and used by the agent (create or verify at
 * start-up) and by the operator (reconcile). See docs/storage-format.md.
 *
 * files table  — HASH pk (S), RANGE sk (S). Ingestion-file descriptors and the control plane under
 *                reserved partition keys (metadata log, snapshots pointer, agent registry, leases).
 * chunks table — HASH pk (S), RANGE sk (N). The bytes of each ingestion file, split in chunks under the
 *                400 KB item limit: pk = file key, sk = chunk number.
 * Both tables expire items through TTL on the attribute `expiresAt` (epoch seconds).
 */

export type KeyType = "HASH" | "RANGE";
export type AttributeType = "S" | "N" | "B";

export interface KeyAttribute {
  readonly name: string;
  readonly keyType: KeyType;
  readonly type: AttributeType;
}

export interface TableSchema {
  readonly role: "files" | "chunks";
  readonly keys: readonly KeyAttribute[];
  readonly ttlAttribute: string;
}

export const TTL_ATTRIBUTE = "expiresAt";

export const FILES_TABLE_SCHEMA: TableSchema = {
  role: "files",
  keys: [
    { name: "pk", keyType: "HASH", type: "S" },
    { name: "sk", keyType: "RANGE", type: "S" },
  ],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const CHUNKS_TABLE_SCHEMA: TableSchema = {
  role: "chunks",
  keys: [
    { name: "pk", keyType: "HASH", type: "S" },
    { name: "sk", keyType: "RANGE", type: "N" },
  ],
  ttlAttribute: TTL_ATTRIBUTE,
};

/** Human-readable schema, used in error messages: "pk (S, HASH), sk (N, RANGE)". */
export function describeSchema(schema: TableSchema): string {
  return schema.keys.map((k) => `${k.name} (${k.type}, ${k.keyType})`).join(", ");
}

/** The shape DescribeTable returns, reduced to what the schema check needs. */
export interface ObservedTable {
  readonly keySchema: ReadonlyArray<{ AttributeName?: string; KeyType?: string }>;
  readonly attributeDefinitions: ReadonlyArray<{ AttributeName?: string; AttributeType?: string }>;
}

/**
 * Compares an existing table with the expected schema. Returns null when it matches, otherwise a
 * message naming the table, what was found and what is expected.
 */
export function schemaMismatch(tableName: string, schema: TableSchema, observed: ObservedTable): string | null {
  const types = new Map(observed.attributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]));
  const found = observed.keySchema
    .map((k) => `${k.AttributeName} (${types.get(k.AttributeName) ?? "?"}, ${k.KeyType})`)
    .join(", ");
  const ok =
    observed.keySchema.length === schema.keys.length &&
    schema.keys.every(
      (want) =>
        observed.keySchema.some((k) => k.AttributeName === want.name && k.KeyType === want.keyType) &&
        types.get(want.name) === want.type,
    );
  if (ok) return null;
  return `table ${tableName} has key schema [${found}], expected the ${schema.role} table schema [${describeSchema(schema)}]`;
}

/** CreateTable input fields (KeySchema, AttributeDefinitions) for a schema, in the AWS SDK's shape. */
export function createTableKeyFields(schema: TableSchema): {
  KeySchema: Array<{ AttributeName: string; KeyType: KeyType }>;
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: AttributeType }>;
} {
  return {
    KeySchema: schema.keys.map((k) => ({ AttributeName: k.name, KeyType: k.keyType })),
    AttributeDefinitions: schema.keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
  };
}
