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

/** A raw value and where it came from, for messages: `flag -name` or `environment variable ENV (-name)`. */
export interface RawFlagValue {
  readonly raw: string;
  readonly source: string;
}

/** The flag's command-line value, else its non-empty environment twin, else undefined. */
function rawValue(spec: FlagSpec, given: string | undefined, env: NodeJS.ProcessEnv): RawFlagValue | undefined {
  if (given !== undefined) return { raw: given, source: `flag -${spec.name}` };
  const fromEnv = env[spec.env];
  return fromEnv === undefined || fromEnv === ""
    ? undefined
    : { raw: fromEnv, source: `environment variable ${spec.env} (-${spec.name})` };
}

/** The ConfigError for a bad value, naming the value and where it came from. */
function invalidValue(v: RawFlagValue, reason: string): ConfigError {
  return new ConfigError(`invalid value ${JSON.stringify(v.raw)} for ${v.source}: ${reason}`);
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
  if (typeof given === "boolean") {
    if (!spec.boolean) throw new ConfigError(`flag -${spec.name} needs a value (<${spec.valueName}>)`);
    return spec.parse(String(given));
  }
  const v = rawValue(spec, given, env);
  if (!v) return undefined;
  try {
    return spec.parse(v.raw);
  } catch (err) {
    const shown = spec.redact ? { ...v, raw: spec.redact(v.raw) } : v;
    throw invalidValue(shown, err instanceof Error ? err.message : String(err));
  }
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
  const get = (name: K): RawFlagValue | undefined => rawValue(table[name], flags[name], env);
  return {
    get,
    bad: invalidValue,
    /** The flag as a boolean (true/false/1/0), the fallback when unset. */
    boolean(name, fallback) {
      const v = get(name);
      if (!v) return fallback;
      try {
        return parseBoolean(v.raw);
      } catch (err) {
        throw invalidValue(v, (err as Error).message);
      }
    },
  };
}
