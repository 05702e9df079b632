/**
 * The project's compact message-definition form, and the TypeScript types derived from it.
 *
 * One definition per message covers every version: each field names its version range
 * (`"0+"`, `"3-8"`, `"4"`), optional `nullableVersions`, optional tag (`tag` + `taggedVersions`) and
 * optional `default` (the value a decoder yields when the field is absent in a version, and the value
 * a tagged field must differ from to be written). Types:
 *
 *   int8 int16 uint16 int32 uint32 int64 float64 bool string bytes records uuid
 *   `<primitive>[]`            an array of primitives
 *   struct / struct[]          a nested struct (or array of them) with `fields`
 *
 * In flexible versions strings, bytes, records and arrays use the compact (unsigned-varint length + 1)
 * encodings and every struct ends with a tagged-field block (KIP-482).
 *
 * Type mapping: int64 -> bigint; uuid -> lowercase 32-hex-character string (no dashes), the zero
 * UUID `"000...0"` meaning "none"; bytes -> Buffer; records -> Buffer in requests, and in responses
 * `Buffer | readonly Buffer[]` (chunks written back to back without concatenation).
 *
 * `RequestOf`-style types (`Decoded<...>`) have every field present (a decoder fills defaults for
 * fields absent in the version being read); `Encodable<...>` types make version-limited and tagged
 * fields optional, because the encoder substitutes the default for anything left out.
 */

export type PrimitiveType =
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "bool"
  | "string"
  | "bytes"
  | "records"
  | "uuid";

export type FieldType = PrimitiveType | `${PrimitiveType}[]` | "struct" | "struct[]";

export type DefaultValue = number | bigint | boolean | string | null;

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly tag?: number;
  readonly taggedVersions?: string;
  readonly default?: DefaultValue;
  readonly fields?: readonly FieldDef[];
}

export interface MessageDef {
  readonly apiKey: number;
  readonly name: string;
  readonly validVersions: string;
  /** First flexible version as `"N+"`, or `"none"`. */
  readonly flexibleVersions: string;
  readonly fields: readonly FieldDef[];
}

/** A version range parsed from `"0+"`, `"3-8"`, `"4"` or `"none"` (inclusive bounds). */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const EMPTY_RANGE: VersionRange = { min: 1, max: 0 };

export function parseVersionRange(text: string): VersionRange {
  if (text === "none") return EMPTY_RANGE;
  let m = /^(\d+)\+$/.exec(text);
  if (m) return { min: Number(m[1]), max: Number.POSITIVE_INFINITY };
  m = /^(\d+)-(\d+)$/.exec(text);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(text);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`invalid version range ${JSON.stringify(text)}`);
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

// ---------------------------------------------------------------------------------------------
// Type-level derivation.

/** Which side of the codec a type is for: "in" = produced by a decoder, "out" = given to an encoder. */
type Side = "in" | "out";

interface PrimitiveValues {
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Buffer;
  uuid: string;
}

type RecordsValue<S extends Side> = S extends "in" ? Buffer : Buffer | readonly Buffer[];

type ArrayOf<T, S extends Side> = S extends "in" ? T[] : readonly T[];

type BaseValue<F extends FieldDef, S extends Side> = F["type"] extends "struct"
  ? F extends { readonly fields: infer C extends readonly FieldDef[] }
    ? StructValue<C, S>
    : never
  : F["type"] extends "struct[]"
    ? F extends { readonly fields: infer C extends readonly FieldDef[] }
      ? ArrayOf<StructValue<C, S>, S>
      : never
    : F["type"] extends "records"
      ? RecordsValue<S>
      : F["type"] extends `${infer P extends keyof PrimitiveValues}[]`
        ? ArrayOf<PrimitiveValues[P], S>
        : F["type"] extends keyof PrimitiveValues
          ? PrimitiveValues[F["type"]]
          : never;

type FieldValue<F extends FieldDef, S extends Side> = F extends { readonly nullableVersions: string }
  ? BaseValue<F, S> | null
  : BaseValue<F, S>;

/** Fields an encoder may omit: tagged ones and those not present in every version. */
type IsOptional<F extends FieldDef> = F extends { readonly tag: number }
  ? true
  : F["versions"] extends "0+"
    ? false
    : true;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type StructIn<C extends readonly FieldDef[]> = { [F in C[number] as F["name"]]: FieldValue<F, "in"> };

type StructOut<C extends readonly FieldDef[]> = {
  [F in C[number] as IsOptional<F> extends true ? never : F["name"]]: FieldValue<F, "out">;
} & {
  [F in C[number] as IsOptional<F> extends true ? F["name"] : never]?: FieldValue<F, "out">;
};

export type StructValue<C extends readonly FieldDef[], S extends Side> = S extends "in"
  ? Simplify<StructIn<C>>
  : Simplify<StructOut<C>>;

/** The value a decoder returns for a message definition (every field present). */
export type Decoded<M extends MessageDef> = StructValue<M["fields"], "in">;
/** The value an encoder accepts for a message definition (version-limited and tagged fields optional). */
export type Encodable<M extends MessageDef> = StructValue<M["fields"], "out">;
