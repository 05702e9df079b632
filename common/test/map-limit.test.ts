/** mapLimit (common/map-limit.ts): order, the concurrency bound, failures and bad limits. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "../map-limit.js";

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

  it("refuses a limit that is not a positive integer instead of returning no results", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN])
      await assert.rejects(
        mapLimit([1, 2], limit, async (x) => x),
        RangeError,
      );
  });
});
