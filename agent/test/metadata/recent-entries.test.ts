import assert from "node:assert/strict";
import { RecentEntries } from "../../src/metadata/recent-entries.js";

const record = (index: number, bytes = 10) => ({ index: BigInt(index), data: Buffer.alloc(bytes, index) });

describe("recent log entries", () => {
  it("gives a range only when it holds every entry of it", () => {
    const recent = new RecentEntries(10, 1000);
    for (let i = 5; i <= 9; i++) recent.add(record(i));
    assert.deepEqual(
      recent.range(6n, 8n)?.map((r) => r.index),
      [6n, 7n, 8n],
    );
    assert.equal(recent.range(4n, 6n), null, "4 was never kept");
    assert.equal(recent.range(8n, 10n), null, "10 is not there yet");
    assert.equal(recent.range(8n, 7n), null);
  });

  it("starts again after a gap, and ignores what it has", () => {
    const recent = new RecentEntries(10, 1000);
    recent.add(record(1));
    recent.add(record(2));
    recent.add(record(2, 99));
    assert.equal(recent.range(2n, 2n)?.[0]?.data.length, 10, "an index's bytes are kept once");
    recent.add(record(7));
    assert.equal(recent.range(1n, 2n), null);
    assert.deepEqual(
      recent.range(7n, 7n)?.map((r) => r.index),
      [7n],
    );
  });

  it("keeps at most its count and its bytes, and always the newest entry", () => {
    const byCount = new RecentEntries(3, 1000);
    for (let i = 1; i <= 6; i++) byCount.add(record(i));
    assert.equal(byCount.range(3n, 6n), null);
    assert.equal(byCount.range(4n, 6n)?.length, 3);
    const byBytes = new RecentEntries(100, 25);
    for (let i = 1; i <= 6; i++) byBytes.add(record(i));
    assert.equal(byBytes.range(5n, 6n)?.length, 2);
    assert.equal(byBytes.range(4n, 6n), null);
    const big = new RecentEntries(100, 25);
    big.add(record(1, 500));
    assert.equal(big.range(1n, 1n)?.length, 1, "an entry above the budget is kept alone");
  });
});
