/**
 * One flag as a table entry: its name, environment twin, default and help as shown, and its value parser.
 * The agent's, the operator's and the other commands' flag tables are made of these; the CLI parses with
 * them and the README's flag tables are generated from them (scripts/gen-flag-docs.ts).
 */

/** Parses one raw value; throws Error with a short reason (the caller names the flag and the value). */
export type Parser<T> = (raw: string) => T;

export interface FlagSpec<T = unknown> {
  /** Name on the command line, without dashes (case-sensitive, as in Go's flag package). */
  readonly name: string;
  /** Environment twin. */
  readonly env: string;
  /** Default as shown in help and docs. */
  readonly defaultText: string;
  readonly help: string;
  /** A boolean flag may be given without a value (`-createTables` means true). */
  readonly boolean: boolean;
  /** Value placeholder in help ("<duration>"). */
  readonly valueName: string;
  /** Parses one raw value; throws Error with a short reason (the caller adds flag and value). */
  readonly parse: Parser<T>;
  /** How a refused value is shown in the error (hides a secret it may hold, e.g. a password in a URL). */
  readonly redact?: (raw: string) => string;
}

export function flag<T>(spec: {
  name: string;
  env: string;
  defaultText: string;
  help: string;
  valueName: string;
  parse: Parser<T>;
  boolean?: boolean;
  redact?: (raw: string) => string;
}): FlagSpec<T> {
  return { ...spec, boolean: spec.boolean ?? false };
}

/** A flag whose value is kept as given (its command validates it with the other flags). */
export function stringFlag(s: Omit<FlagSpec<string>, "parse" | "boolean"> & { boolean?: boolean }): FlagSpec<string> {
  return { ...s, boolean: s.boolean ?? false, parse: (raw) => raw };
}
