/** mapLimit and mapWithinBudget (common/map-limit.ts): order, the bounds, failures and bad options. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit, mapWithinBudget } from "../map-limit.js";

describe("mapLimit", () => {
  it("returns the results in input order, with each item's index", async () => {
    const items = [30, 5, 20, 0, 10];
    const out = await mapLimit(items, 2, async (ms, i) => {
      await sleep(ms);
      return `${i}:${ms}`;
    });
    assert.deepEqual(out, ["0:30", "1:5", "2:20", "3:0", "4:10"]);
  });

  it("never has more than `limit` calls in flight, and uses all of them", async () => {
    let inFlight = 0;
    let peak = 0;
    await mapLimit(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async () => {
        peak = Math.max(peak, ++inFlight);
        await sleep(2);
        inFlight--;
      },
    );
    assert.equal(peak, 3);
  });

  it("handles an empty list and a limit larger than the list", async () => {
    assert.deepEqual(await mapLimit([], 4, async (x: number) => x), []);
    assert.deepEqual(await mapLimit([1, 2], 10, async (x) => x * 2), [2, 4]);
  });

  it("rejects with the failure of a call", async () => {
    await assert.rejects(
      mapLimit([1, 2, 3], 2, async (x) => {
        if (x === 2) throw new Error("boom");
        return x;
      }),
      /boom/,
    );
  });

  it("starts nothing after a failure", async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
        started.push(x);
        if (x === 0) throw new Error("first fails");
        await new Promise((r) => setTimeout(r, 10));
        return x;
      }),
      /first fails/,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(started, [0, 1]);
  });

  it("refuses a limit that is not a positive integer instead of returning no results", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN])
      await assert.rejects(
        mapLimit([1, 2], limit, async (x) => x),
        RangeError,
      );
  });
});

describe("mapWithinBudget", () => {
  /** Runs items (their weights) through mapWithinBudget, each taking `ms`; records what was in flight at each start. */
  async function run(weights: number[], limit: number, budget: number, ms = 3) {
    let running = 0;
    let weighing = 0;
    const starts: { index: number; running: number; weighing: number }[] = [];
    const out = await mapWithinBudget(weights, { limit, budget, weight: (w) => w }, async (w, index) => {
      running++;
      weighing += w;
      starts.push({ index, running, weighing });
      await sleep(ms);
      running--;
      weighing -= w;
      return index;
    });
    return { out, starts };
  }

  it("keeps what is in flight within the budget, fills it, and returns results in input order", async () => {
    const { out, starts } = await run([1, 1, 1, 1, 1, 1, 1, 1], 8, 3);
    assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(Math.max(...starts.map((s) => s.weighing)), 3);
  });

  it("also keeps the number in flight within the limit", async () => {
    const { starts } = await run([0, 0, 0, 0, 0, 0], 2, 100);
    assert.equal(Math.max(...starts.map((s) => s.running)), 2);
  });

  it("runs an item heavier than the budget alone, and starts items in input order", async () => {
    const { out, starts } = await run([1, 10, 1, 1], 4, 2);
    assert.deepEqual(out, [0, 1, 2, 3]);
    assert.deepEqual(
      starts.map((s) => s.index),
      [0, 1, 2, 3],
    );
    const heavy = starts.find((s) => s.index === 1)!;
    assert.deepEqual([heavy.running, heavy.weighing], [1, 10]);
  });

  it("handles an empty list", async () => {
    assert.deepEqual(await mapWithinBudget([], { limit: 1, budget: 1, weight: () => 1 }, async (x: number) => x), []);
  });

  it("rejects with the first failure and starts nothing after it", async () => {
    const started: number[] = [];
    await assert.rejects(
      mapWithinBudget([1, 2, 3, 4, 5], { limit: 1, budget: 10, weight: () => 1 }, async (x) => {
        started.push(x);
        if (x === 2) throw new Error("boom");
        return x;
      }),
      /boom/,
    );
    await sleep(5);
    assert.deepEqual(started, [1, 2]);
  });

  it("refuses a bad limit, budget or weight instead of running unbounded", async () => {
    const fn = async (x: number) => x;
    for (const limit of [0, 1.5, Number.NaN])
      await assert.rejects(mapWithinBudget([1], { limit, budget: 1, weight: () => 1 }, fn), RangeError);
    for (const budget of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      await assert.rejects(mapWithinBudget([1], { limit: 1, budget, weight: () => 1 }, fn), RangeError);
    for (const w of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      await assert.rejects(mapWithinBudget([1], { limit: 1, budget: 1, weight: () => w }, fn), RangeError);
  });
});
