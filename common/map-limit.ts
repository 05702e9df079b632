/** Bounded concurrency for async work over a list. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results in input order. Rejects with
 * the first failure and starts nothing after it (calls already started are not cancelled). `limit` must
 * be a positive integer.
 */
export function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return mapWithinBudget(items, { limit, budget: 1, weight: () => 0 }, fn);
}

export interface BudgetOptions<T> {
  /** Calls in flight at most (a positive integer). */
  readonly limit: number;
  /** What the calls in flight may weigh together (positive); an item heavier than this runs alone. */
  readonly budget: number;
  /** An item's weight (a finite number ≥ 0), asked once per item. */
  readonly weight: (item: T) => number;
}

/**
 * mapLimit with a second bound: the items in flight weigh at most `budget` together, except that one item
 * always runs when nothing else does. Items start in input order (a heavy item waits for room rather than
 * being overtaken); results in input order. Rejects with the first failure and starts nothing after it
 * (calls already started are not cancelled).
 */
export async function mapWithinBudget<T, R>(
  items: readonly T[],
  options: BudgetOptions<T>,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const { limit, budget } = options;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  if (!(budget > 0) || !Number.isFinite(budget))
    throw new RangeError(`budget must be a positive number, got ${budget}`);
  const weights = items.map((item, i) => {
    const w = options.weight(item);
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`item ${i} weighs ${w}: weights must be finite and ≥ 0`);
    return w;
  });
  const out = new Array<R>(items.length);
  if (items.length === 0) return out;
  return new Promise<R[]>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let weighing = 0;
    let finished = 0;
    let failed = false;
    const start = (): void => {
      while (
        !failed &&
        next < items.length &&
        running < limit &&
        (running === 0 || weighing + weights[next]! <= budget)
      ) {
        const i = next++;
        running++;
        weighing += weights[i]!;
        (async () => fn(items[i]!, i))().then(
          (result) => {
            out[i] = result;
            running--;
            weighing -= weights[i]!;
            if (++finished === items.length) resolve(out);
            else start();
          },
          (err: unknown) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    start();
  });
}
