/** StoreUsage.record: an event reported by another thread's stores counts as if made here. */
import assert from "node:assert/strict";
import { StoreUsage, type UsageEvent } from "../../src/store/usage.js";

describe("store usage", () => {
  it("counts recorded events as its own and reports them unchanged to its listeners", () => {
    const events: UsageEvent[] = [
      { kind: "dynamoRead", table: "files", units: 1.5 },
      { kind: "dynamoRead", table: "files", units: 2, key: "log" },
      { kind: "dynamoWrite", table: "chunks", units: 3, estimated: false },
      { kind: "dynamoWrite", table: "files", units: 1, estimated: true, key: "logbody" },
      { kind: "s3Request", type: "put", count: 1 },
      { kind: "s3Request", type: "get", count: 4 },
    ];
    const usage = new StoreUsage();
    const seen: UsageEvent[] = [];
    usage.onChange((e) => seen.push(e));
    for (const e of events) usage.record(e);
    assert.deepEqual(seen, events);
    assert.deepEqual(usage.snapshot(), {
      dynamoReadUnits: 3.5,
      dynamoWriteUnits: 4,
      s3Requests: { put: 1, get: 4, list: 0, delete: 0 },
    });
  });
});
