/**
 * Reading flags from a flag table: a flag given on the command line wins over its environment twin; an
 * environment variable set to "" counts as unset. A bad value becomes a ConfigError naming the value and
 * where it came from (`flag -name` or `environment variable ENV (-name)`).
 */
import { parseBoolean } from "./values.js";
import type { FlagSpec } from "./spec.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Reads one flag from its command-line value (`given`; true for a bare boolean flag) or else its
 * environment twin, parsed; undefined when neither is set.
 */
export function readFlag<T>(
  spec: FlagSpec<T>,
  given: string | boolean | undefined,
  env: NodeJS.ProcessEnv,
): T | undefined {
  const name = spec.name;
  let raw: string;
  let source: string;
  if (given !== undefined) {
    if (typeof given === "boolean") {
      if (!spec.boolean) throw new ConfigError(`flag -${name} needs a value (<${spec.valueName}>)`);
      return spec.parse(String(given));
    }
    raw = given;
    source = `flag -${name}`;
  } else {
    const fromEnv = env[spec.env];
    if (fromEnv === undefined || fromEnv === "") return undefined;
    raw = fromEnv;
    source = `environment variable ${spec.env} (-${name})`;
  }
  try {
    return spec.parse(raw);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for ${source}: ${reason}`);
  }
}

/** A raw value and where it came from, for messages: `flag -name` or `environment variable ENV (-name)`. */
export interface RawFlagValue {
  readonly raw: string;
  readonly source: string;
}

/**
 * Reads flags (keys = flag names) and their environment twins from a flag table: get(name) gives the
 * flag's value, else its non-empty environment variable, else undefined; bad(value, reason) makes the
 * ConfigError that names the value and where it came from.
 */
export function flagReader<K extends string>(
  table: Readonly<Record<K, FlagSpec>>,
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
): {
  get(name: K): RawFlagValue | undefined;
  bad(v: RawFlagValue, reason: string): ConfigError;
  boolean(name: K, fallback: boolean): boolean;
} {
  const get = (name: K): RawFlagValue | undefined => {
    const given = flags[name];
    if (given !== undefined) return { raw: given, source: `flag -${name}` };
    const envName = table[name].env;
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv === ""
      ? undefined
      : { raw: fromEnv, source: `environment variable ${envName} (-${name})` };
  };
  const bad = (v: RawFlagValue, reason: string): ConfigError =>
    new ConfigError(`invalid value ${JSON.stringify(v.raw)} for ${v.source}: ${reason}`);
  return {
    get,
    bad,
    /** The flag as a boolean (true/false/1/0), the fallback when unset. */
    boolean(name, fallback) {
      const v = get(name);
      if (!v) return fallback;
      try {
        return parseBoolean(v.raw);
      } catch (err) {
        throw bad(v, (err as Error).message);
      }
    },
  };
}
