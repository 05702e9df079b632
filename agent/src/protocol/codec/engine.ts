/**
 * The generic encoder/decoder. A message definition is compiled once per (version, flexible) into a
 * flat plan of numeric field kinds; decoding and encoding walk that plan with a switch, no closures or
 * per-version code. Decoded objects always get every property of the definition, in definition order
 * (absent and tagged fields get their defaults first), so objects of one message share a shape.
 */
import { ProtocolError } from "./errors.js";
import type { DefaultValue, FieldDef, FieldType } from "./schema.js";
import { inRange, parseVersionRange } from "./schema.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

const enum Kind {
  Int8,
  Int16,
  Uint16,
  Int32,
  Uint32,
  Int64,
  Float64,
  Bool,
  String,
  Bytes,
  Records,
  Uuid,
  Struct,
  Array,
}

const PRIMITIVE_KINDS: Record<string, Kind> = {
  int8: Kind.Int8,
  int16: Kind.Int16,
  uint16: Kind.Uint16,
  int32: Kind.Int32,
  uint32: Kind.Uint32,
  int64: Kind.Int64,
  float64: Kind.Float64,
  bool: Kind.Bool,
  string: Kind.String,
  bytes: Kind.Bytes,
  records: Kind.Records,
  uuid: Kind.Uuid,
};

export const ZERO_UUID = "00000000000000000000000000000000";

interface CompiledField {
  readonly name: string;
  /** Kind of the value; for arrays, Kind.Array with `elem` giving the element kind. */
  readonly kind: Kind;
  readonly elem: Kind;
  readonly nullable: boolean;
  /** Sub-plan for struct values and struct-array elements. */
  readonly struct: CompiledStruct | null;
  /** Present in this version (as a regular or tagged field). */
  readonly present: boolean;
  readonly tag: number;
  readonly defaultValue: DefaultValue | undefined;
  /** For primitive arrays: the element as a non-nullable field (set after construction). */
  elemField: CompiledField | null;
}

export interface CompiledStruct {
  /** Every field in definition order (determines the decoded object's shape). */
  readonly all: readonly CompiledField[];
  /** Fields on the wire in order, excluding tagged fields. */
  readonly regular: readonly CompiledField[];
  /** Tagged fields present in this version, ascending tag. */
  readonly tagged: readonly CompiledField[];
  readonly flexible: boolean;
  /** Lower bound of this struct's encoded size (used to bound array lengths before allocation). */
  readonly minSize: number;
}

function kindOf(type: FieldType): { kind: Kind; elem: Kind } {
  if (type === "struct") return { kind: Kind.Struct, elem: Kind.Struct };
  if (type === "struct[]") return { kind: Kind.Array, elem: Kind.Struct };
  if (type.endsWith("[]")) {
    const elem = PRIMITIVE_KINDS[type.slice(0, -2)];
    if (elem === undefined) throw new Error(`unknown type ${type}`);
    return { kind: Kind.Array, elem };
  }
  const kind = PRIMITIVE_KINDS[type];
  if (kind === undefined) throw new Error(`unknown type ${type}`);
  return { kind, elem: kind };
}

function minSizeOf(kind: Kind, flexible: boolean, struct: CompiledStruct | null): number {
  switch (kind) {
    case Kind.Int8:
    case Kind.Bool:
      return 1;
    case Kind.Int16:
    case Kind.Uint16:
      return 2;
    case Kind.Int32:
    case Kind.Uint32:
      return 4;
    case Kind.Int64:
    case Kind.Float64:
      return 8;
    case Kind.Uuid:
      return 16;
    case Kind.String:
      return flexible ? 1 : 2;
    case Kind.Bytes:
    case Kind.Records:
    case Kind.Array:
      return flexible ? 1 : 4;
    case Kind.Struct:
      return struct ? struct.minSize : 0;
  }
}

export function compileStruct(fields: readonly FieldDef[], version: number, flexible: boolean): CompiledStruct {
  const all: CompiledField[] = [];
  const regular: CompiledField[] = [];
  const tagged: CompiledField[] = [];
  let minSize = flexible ? 1 : 0;
  for (const f of fields) {
    const { kind, elem } = kindOf(f.type);
    const present = inRange(parseVersionRange(f.versions), version);
    const isTagged =
      present &&
      f.tag !== undefined &&
      f.taggedVersions !== undefined &&
      flexible &&
      inRange(parseVersionRange(f.taggedVersions), version);
    const struct = f.fields ? compileStruct(f.fields, version, flexible) : null;
    const cf: CompiledField = {
      name: f.name,
      kind,
      elem,
      nullable: f.nullableVersions !== undefined && inRange(parseVersionRange(f.nullableVersions), version),
      struct,
      present,
      tag: isTagged ? f.tag : -1,
      defaultValue: f.default,
      elemField: null,
    };
    if (kind === Kind.Array && elem !== Kind.Struct) cf.elemField = { ...cf, nullable: false };
    all.push(cf);
    if (!present) continue;
    if (isTagged) tagged.push(cf);
    else {
      regular.push(cf);
      // A nullable struct may be just its marker byte.
      minSize += kind === Kind.Struct && cf.nullable ? 1 : minSizeOf(kind, flexible, struct);
    }
  }
  tagged.sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < tagged.length; i++) {
    if (tagged[i]!.tag === tagged[i - 1]!.tag) throw new Error(`duplicate tag ${tagged[i]!.tag}`);
  }
  return { all, regular, tagged, flexible, minSize };
}

// ------------------------------------------------------------------------------------------------
// Defaults

function zeroOf(kind: Kind): unknown {
  switch (kind) {
    case Kind.Int64:
      return 0n;
    case Kind.Bool:
      return false;
    case Kind.String:
      return "";
    case Kind.Uuid:
      return ZERO_UUID;
    case Kind.Bytes:
      return Buffer.alloc(0);
    case Kind.Records:
      return null;
    default:
      return 0;
  }
}

function defaultOf(f: CompiledField): unknown {
  if (f.kind === Kind.Array) return [];
  if (f.kind === Kind.Struct) return defaultStruct(f.struct!);
  if (f.defaultValue !== undefined) return f.defaultValue;
  return zeroOf(f.kind);
}

function defaultStruct(s: CompiledStruct): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of s.all) o[f.name] = defaultOf(f);
  return o;
}

function isDefault(f: CompiledField, v: unknown): boolean {
  if (v === undefined) return true;
  if (f.kind === Kind.Array) return Array.isArray(v) && v.length === 0;
  if (f.kind === Kind.Struct) {
    if (v === null || typeof v !== "object") return false;
    const o = v as Record<string, unknown>;
    for (const c of f.struct!.all) if (!isDefault(c, o[c.name])) return false;
    return true;
  }
  const d = f.defaultValue !== undefined ? f.defaultValue : zeroOf(f.kind);
  if (Buffer.isBuffer(d)) return Buffer.isBuffer(v) && v.length === 0;
  return v === d;
}

// ------------------------------------------------------------------------------------------------
// Decoding

export function decodeStruct(r: Reader, s: CompiledStruct): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const all = s.all;
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!;
    o[f.name] = f.present && f.tag < 0 ? readValue(r, f, f.kind, s.flexible) : defaultOf(f);
  }
  if (s.flexible) readTagged(r, s, o);
  return o;
}

function readTagged(r: Reader, s: CompiledStruct, o: Record<string, unknown>): void {
  const count = r.uvarint();
  if (count > r.remaining) throw new ProtocolError(`tagged field count ${count} exceeds the remaining bytes`);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    if (tag <= last) throw new ProtocolError(`tagged fields out of order (${tag} after ${last})`);
    last = tag;
    const size = r.uvarint();
    if (size > r.remaining)
      throw new ProtocolError(`tagged field ${tag} of ${size} bytes exceeds the remaining ${r.remaining}`);
    const stop = r.pos + size;
    const f = s.tagged.find((t) => t.tag === tag);
    if (f) {
      const sub = new Reader(r.buf, r.pos, stop);
      o[f.name] = readValue(sub, f, f.kind, true);
      if (sub.pos !== stop)
        throw new ProtocolError(`tagged field ${tag} declared ${size} bytes but used ${sub.pos - r.pos}`);
    }
    r.pos = stop;
  }
}

function readValue(r: Reader, f: CompiledField, kind: Kind, flexible: boolean): unknown {
  switch (kind) {
    case Kind.Int8:
      return r.int8();
    case Kind.Int16:
      return r.int16();
    case Kind.Uint16:
      return r.uint16();
    case Kind.Int32:
      return r.int32();
    case Kind.Uint32:
      return r.uint32();
    case Kind.Int64:
      return r.int64();
    case Kind.Float64:
      return r.float64();
    case Kind.Bool:
      return r.bool();
    case Kind.Uuid:
      return r.uuid();
    case Kind.String:
      if (flexible) return f.nullable ? r.compactNullableString() : r.compactString();
      return f.nullable ? r.nullableString() : r.string();
    case Kind.Bytes:
      if (flexible) return f.nullable ? r.compactNullableBytes() : r.compactBytes();
      return f.nullable ? r.nullableBytes() : r.bytes();
    case Kind.Records:
      return flexible ? r.compactNullableBytes() : r.nullableBytes();
    case Kind.Struct:
      // A nullable struct is preceded by a marker byte: −1 null, 1 present (Kafka's generated code).
      if (f.nullable && r.int8() < 0) return null;
      return decodeStruct(r, f.struct!);
    case Kind.Array: {
      const elemMin = f.elem === Kind.Struct ? f.struct!.minSize : minSizeOf(f.elem, flexible, null);
      const n = flexible ? r.compactArrayLength(elemMin) : r.arrayLength(elemMin);
      if (n === null) {
        if (!f.nullable) throw new ProtocolError(`null array for non-nullable field ${f.name}`);
        return null;
      }
      const out = new Array<unknown>(n);
      if (f.elem === Kind.Struct) {
        const s = f.struct!;
        for (let i = 0; i < n; i++) out[i] = decodeStruct(r, s);
      } else {
        const elemField = f.elemField!;
        for (let i = 0; i < n; i++) out[i] = readValue(r, elemField, f.elem, flexible);
      }
      return out;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Encoding

export function encodeStruct(w: Writer, s: CompiledStruct, v: unknown): void {
  if (v === null || typeof v !== "object")
    throw new ProtocolError(`expected an object, got ${v === null ? "null" : typeof v}`);
  const o = v as Record<string, unknown>;
  const regular = s.regular;
  for (let i = 0; i < regular.length; i++) {
    const f = regular[i]!;
    let x = o[f.name];
    if (x === undefined) x = defaultOf(f);
    writeValue(w, f, f.kind, x, s.flexible);
  }
  if (!s.flexible) return;
  let count = 0;
  for (const f of s.tagged) if (!isDefault(f, o[f.name])) count++;
  w.uvarint(count);
  if (count === 0) return;
  for (const f of s.tagged) {
    const x = o[f.name];
    if (isDefault(f, x)) continue;
    const sub = new Writer(64);
    writeValue(sub, f, f.kind, x, true);
    const bytes = sub.finishBuffer();
    w.uvarint(f.tag);
    w.uvarint(bytes.length);
    w.raw(bytes);
  }
}

function writeValue(w: Writer, f: CompiledField, kind: Kind, x: unknown, flexible: boolean): void {
  switch (kind) {
    case Kind.Int8:
      return w.int8(x as number);
    case Kind.Int16:
      return w.int16(x as number);
    case Kind.Uint16:
      return w.uint16(x as number);
    case Kind.Int32:
      return w.int32(x as number);
    case Kind.Uint32:
      return w.uint32(x as number);
    case Kind.Int64:
      return w.int64(x as bigint);
    case Kind.Float64:
      return w.float64(x as number);
    case Kind.Bool:
      if (typeof x !== "boolean") throw new ProtocolError(`field ${f.name}: expected a boolean`);
      return w.bool(x);
    case Kind.Uuid:
      return w.uuid(x as string);
    case Kind.String:
      if (x === null && !f.nullable) throw new ProtocolError(`field ${f.name} is not nullable in this version`);
      if (flexible) return w.compactNullableString(x as string | null);
      return w.nullableString(x as string | null);
    case Kind.Bytes:
      if (x === null && !f.nullable) throw new ProtocolError(`field ${f.name} is not nullable in this version`);
      if (flexible) return w.compactNullableBytes(x as Buffer | null);
      return w.nullableBytes(x as Buffer | null);
    case Kind.Records:
      return w.records(x as Buffer | readonly Buffer[] | null, flexible);
    case Kind.Struct:
      if (f.nullable) {
        w.int8(x === null ? -1 : 1);
        if (x === null) return;
      } else if (x === null) throw new ProtocolError(`field ${f.name} is not nullable in this version`);
      return encodeStruct(w, f.struct!, x);
    case Kind.Array: {
      if (x === null) {
        if (!f.nullable) throw new ProtocolError(`field ${f.name} is not nullable in this version`);
        if (flexible) w.compactArrayLength(null);
        else w.arrayLength(null);
        return;
      }
      if (!Array.isArray(x)) throw new ProtocolError(`field ${f.name}: expected an array`);
      if (flexible) w.compactArrayLength(x.length);
      else w.arrayLength(x.length);
      if (f.elem === Kind.Struct) {
        const s = f.struct!;
        for (let i = 0; i < x.length; i++) encodeStruct(w, s, x[i]);
      } else {
        const elemField = f.elemField!;
        for (let i = 0; i < x.length; i++) writeValue(w, elemField, f.elem, x[i], flexible);
      }
      return;
    }
  }
}
