/**
 * Test support: builds sample message bodies straight from the definitions, independently of the
 * codec's own default logic, so round-trip tests cover every field of every version. `sampleBody`
 * returns the value a decoder must produce: fields absent in the version hold their defaults,
 * nullable fields are sometimes null, tagged fields are sometimes set.
 */
import type { FieldDef, MessageDef } from "../../src/protocol/codec/schema.js";
import { inRange, parseVersionRange } from "../../src/protocol/codec/schema.js";

/** Small seeded PRNG (mulberry32). */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const ZERO_UUID = "0".repeat(32);
const STRINGS = ["", "a", "orders", "topic-with-dashes_and.dots", "ünïcödé ✓ 🚀", "x".repeat(300)];

function present(f: FieldDef, v: number): boolean {
  return inRange(parseVersionRange(f.versions), v);
}
function nullable(f: FieldDef, v: number): boolean {
  return f.nullableVersions !== undefined && inRange(parseVersionRange(f.nullableVersions), v);
}
function tagged(f: FieldDef, v: number, flexible: boolean): boolean {
  return (
    flexible && f.tag !== undefined && f.taggedVersions !== undefined && inRange(parseVersionRange(f.taggedVersions), v)
  );
}

export function defaultFor(f: FieldDef, v: number): unknown {
  if (f.type.endsWith("[]")) return [];
  if (f.type === "struct") return defaultStruct(f.fields ?? [], v);
  if (f.default !== undefined) return f.default;
  switch (f.type) {
    case "int64":
      return 0n;
    case "bool":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
    case "bytes":
      return Buffer.alloc(0);
    case "records":
      return null;
    default:
      return 0;
  }
}

function defaultStruct(fields: readonly FieldDef[], v: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultFor(f, v);
  return o;
}

function primitive(type: string, rng: Rng): unknown {
  switch (type) {
    case "int8":
      return rng.range(-128, 127);
    case "int16":
      return rng.range(-32768, 32767);
    case "uint16":
      return rng.range(0, 65535);
    case "int32":
      return rng.range(-2147483648, 2147483647);
    case "uint32":
      return rng.range(0, 4294967295);
    case "int64":
      return BigInt.asIntN(64, (BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32)));
    case "float64":
      return (rng.next() - 0.5) * 1e6;
    case "bool":
      return rng.chance(0.5);
    case "string":
      return STRINGS[rng.int(STRINGS.length)]!;
    case "uuid":
      return rng.bytes(16).toString("hex");
    case "bytes":
      return rng.bytes(rng.int(40));
    case "records":
      return rng.bytes(rng.range(1, 100));
  }
  throw new Error(`no sample for ${type}`);
}

function sampleValue(f: FieldDef, v: number, flexible: boolean, rng: Rng, depth: number): unknown {
  if (nullable(f, v) && rng.chance(0.2)) return null;
  if (f.type === "struct") return sampleStruct(f.fields ?? [], v, flexible, rng, depth + 1);
  if (f.type === "struct[]") {
    const n = depth > 3 ? rng.int(2) : rng.int(3);
    return Array.from({ length: n }, () => sampleStruct(f.fields ?? [], v, flexible, rng, depth + 1));
  }
  if (f.type.endsWith("[]")) {
    const elem = f.type.slice(0, -2);
    return Array.from({ length: rng.int(4) }, () => primitive(elem, rng));
  }
  return primitive(f.type, rng);
}

export function sampleStruct(
  fields: readonly FieldDef[],
  v: number,
  flexible: boolean,
  rng: Rng,
  depth = 0,
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (!present(f, v)) o[f.name] = defaultFor(f, v);
    else if (tagged(f, v, flexible) && rng.chance(0.4)) o[f.name] = defaultFor(f, v);
    else o[f.name] = sampleValue(f, v, flexible, rng, depth);
  }
  return o;
}

export function isFlexibleVersion(def: MessageDef, v: number): boolean {
  return def.flexibleVersions !== "none" && inRange(parseVersionRange(def.flexibleVersions), v);
}

export function sampleBody(def: MessageDef, v: number, rng: Rng): Record<string, unknown> {
  return sampleStruct(def.fields, v, isFlexibleVersion(def, v), rng);
}

export function versionsOf(def: MessageDef): number[] {
  const r = parseVersionRange(def.validVersions);
  const out: number[] = [];
  for (let v = r.min; v <= r.max; v++) out.push(v);
  return out;
}
