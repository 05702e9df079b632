/** Percentiles and small helpers for benchmark figures. */
export interface Percentiles {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

/** Nearest-rank percentile of an unsorted list (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), p999Ms: percentile(values, 99.9) };
}

/** a / b rounded to 2 decimals, or null when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** `n` rounded to one decimal. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Bytes in MiB, with one decimal ("13.9"). */
export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
