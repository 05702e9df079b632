/**
 * The tests' one polling helper: asks a check again and again until it holds, and on timeout says
 * what was awaited and what the check last answered.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";

export interface EventuallyOptions {
  /** What is awaited, said in the timeout error: "the WarpAgent CRD to be Established". */
  readonly what: string;
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Pause between two checks (default 200 ms). */
  readonly intervalMs?: number;
}

/** What a check returns while the condition does not hold yet. */
export type NotYet = undefined | null | false;

function describeLast(last: { readonly error: unknown } | { readonly value: unknown }): string {
  if ("error" in last) return `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  return `last value: ${inspect(last.value, { depth: 2, breakLength: Infinity })}`;
}

/**
 * Calls `check` until it returns something other than undefined, null or false, and returns that.
 * A check that throws counts as "not yet" (so a check can throw to explain why not; note that an
 * assertion that passes returns undefined: return true after it). After `timeoutMs` it fails with
 * "timed out after <timeoutMs> ms waiting for <what>; last error: ..." (or "last value: ...").
 */
export async function eventually<T>(
  check: () => T | NotYet | Promise<T | NotYet>,
  options: EventuallyOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let last: { readonly error: unknown } | { readonly value: unknown };
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}; ${describeLast(last)}`,
        "error" in last ? { cause: last.error } : undefined,
      );
    await sleep(options.intervalMs ?? 200);
  }
}
