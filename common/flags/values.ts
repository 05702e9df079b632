/**
 * Value parsers and formatters shared by the flag tables: Go-style durations, byte sizes with units,
 * booleans, bounded integers, host names, tokens, file paths and log levels. Each parser throws Error
 * with a short reason; the caller names the flag and the value (common/flags/read.ts).
 */
import type { Parser } from "./spec.js";

export const LOG_LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go's time.ParseDuration syntax ("250ms", "0.05s", "1m30s", "0"), returned in milliseconds.
 * Negative durations are rejected: no flag takes one.
 */
export function parseGoDuration(text: string): number {
  if (text === "0") return 0;
  if (text === "") throw new Error("empty; expected a duration such as 250ms or 1s");
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) {
      throw new Error(
        /^[+-]?[\d.]+$/.test(text)
          ? "missing unit; expected a duration such as 250ms, 0.05s or 1s (units ns, us, ms, s, m, h)"
          : "not a duration; expected a duration such as 250ms, 0.05s or 1s (units ns, us, ms, s, m, h)",
      );
    }
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    at = part.lastIndex;
  }
  return total;
}

/** Formats milliseconds in Go duration style for help text ("250ms", "30s"). */
export function formatDurationMs(ms: number): string {
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  k: KiB,
  kib: KiB,
  m: MiB,
  mib: MiB,
  g: GiB,
  gib: GiB,
};

/** A size in bytes with an optional unit: "8388608", "8MiB", "512KiB", "1GB" (KB/MB/GB are powers of 1000). */
export function parseByteSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const factor = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new Error("not a size; expected bytes with an optional unit such as 8388608, 512KiB, 8MiB or 1GiB");
  }
  const bytes = Number(m[1]) * factor;
  if (!Number.isInteger(bytes)) throw new Error("not a whole number of bytes");
  return bytes;
}

/** Formats a byte count for help text ("8MiB", "100MiB"). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", GiB],
    ["MiB", MiB],
    ["KiB", KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** true, false, 1 or 0 (case-insensitive). */
export function parseBoolean(text: string): boolean {
  switch (text.toLowerCase()) {
    case "true":
    case "1":
      return true;
    case "false":
    case "0":
      return false;
    default:
      throw new Error("expected true, false, 1 or 0");
  }
}

/** A whole number from min to max. */
export function integer(min: number, max: number): Parser<number> {
  return (text) => {
    if (!/^-?\d+$/.test(text)) throw new Error(`expected an integer from ${min} to ${max}`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`out of range; expected ${min} to ${max}`);
    return n;
  };
}

/** A Go duration (parseGoDuration) from minMs to maxMs, in milliseconds. */
export function durationMs(minMs: number, maxMs: number): Parser<number> {
  return (text) => {
    const ms = parseGoDuration(text);
    if (ms < minMs) throw new Error(`must be at least ${formatDurationMs(minMs)}`);
    if (ms > maxMs) throw new Error(`must be at most ${formatDurationMs(maxMs)}`);
    return ms;
  };
}

/** A size (parseByteSize) from min to max bytes. */
export function byteSize(min: number, max: number): Parser<number> {
  return (text) => {
    const bytes = parseByteSize(text);
    if (bytes < min) throw new Error(`must be at least ${formatBytes(min)}`);
    if (bytes > max) throw new Error(`must be at most ${formatBytes(max)}`);
    return bytes;
  };
}

/** A host name or IP address: no spaces, no scheme, no port. */
export function host(text: string): string {
  if (text === "") throw new Error("empty; expected a host name or IP address");
  if (/\s|\/|^\[|@/.test(text)) throw new Error("expected a bare host name or IP address (no scheme, path or spaces)");
  return text;
}

/** A non-empty word of at most 255 characters without spaces; `what` names it in messages. */
export function token(what: string): Parser<string> {
  return (text) => {
    if (text === "") throw new Error(`empty; expected ${what}`);
    if (/\s/.test(text)) throw new Error(`must not contain spaces; expected ${what}`);
    if (text.length > 255) throw new Error(`longer than 255 characters; expected ${what}`);
    return text;
  };
}

/** A non-blank file path. */
export function filePath(text: string): string {
  if (text.trim() === "") throw new Error("empty; expected a file path");
  return text;
}

/** One of LOG_LEVELS. */
export function logLevel(text: string): LogLevel {
  const found = LOG_LEVELS.find((l) => l === text);
  if (!found) throw new Error(`expected one of ${LOG_LEVELS.join(", ")}`);
  return found;
}
