import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { Kafka, logLevel } from "kafkajs";
import winston from "winston";
import type { Logger } from "../../../common/logger.js";
import { CompactionBacklog, oldestUncompactedWrite, uncompactedFiles } from "../../src/background/backlog.js";
import { Compactor } from "../../src/background/compactor.js";
import { ClusterState } from "../../src/metadata/state.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { closeFixture, createTopic, logger, openFixture, produceFile } from "./support.js";

const T0 = Date.UTC(2026, 0, 1);

/** A logger that keeps the messages it is given. */
function capturingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      messages.push((JSON.parse(chunk.toString()) as { message: string }).message);
      done();
    },
  });
  const logger = winston.createLogger({
    level: "debug",
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, messages };
}

/** The protocol error type kafkajs reports, looking through its wrappers. */
function kafkaErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type) return e.type;
  }
  return undefined;
}

describe("compaction backlog", () => {
  it("lists the ingestion files the state references, with the write time from their keys", async () => {
    const f = await openFixture(1);
    try {
      await createTopic(f, "t", 2);
      const first = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2 }], T0);
      const second = await produceFile(f, 0, [{ topic: "t", partition: 1, records: 1 }], T0 + 5000);
      assert.deepEqual(
        uncompactedFiles(f.logs[0]!.state),
        new Map([
          [first, T0],
          [second, T0 + 5000],
        ]),
      );
      assert.equal(oldestUncompactedWrite(f.logs[0]!.state), T0);
      // Compacting the older file leaves the newer one as the oldest.
      const compactor = new Compactor(
        { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
        { minAgeMs: 1000 },
      );
      await compactor.runOnce(T0 + 2000);
      assert.deepEqual([...uncompactedFiles(f.logs[0]!.state).keys()], [second]);
      assert.equal(oldestUncompactedWrite(f.logs[0]!.state), T0 + 5000);
      await compactor.runOnce(T0 + 10_000);
      assert.equal(oldestUncompactedWrite(f.logs[0]!.state), null);
    } finally {
      await closeFixture(f);
    }
  });

  it("takes the append time of a file whose key carries no time", () => {
    const state = new ClusterState();
    state.apply(1n, {
      proposer: "test",
      seq: 1,
      commands: [{ type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 1, configs: {} }],
    });
    const batch = {
      topic: "t",
      partition: 0,
      pos: 0,
      len: 100,
      count: 1,
      maxTimestamp: T0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    };
    state.apply(2n, {
      proposer: "test",
      seq: 2,
      commands: [{ type: "commitFile", key: "plain-name", size: 100, time: T0 + 7, batches: [batch] }],
    });
    assert.deepEqual(uncompactedFiles(state), new Map([["plain-name", T0 + 7]]));
  });

  it("refuses new data once the oldest uncompacted file is older than the limit, and logs each change once", async () => {
    const f = await openFixture(1);
    try {
      await createTopic(f, "t", 1);
      await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1 }], T0);
      let now = T0 + 1000;
      const { logger: spy, messages: logged } = capturingLogger();
      const backlog = new CompactionBacklog(() => f.logs[0]!.state, { limitMs: 10_000, logger: spy, now: () => now });
      assert.equal(backlog.oldestAgeMs(), 1000);
      assert.equal(backlog.refusal(), null);
      now = T0 + 10_001;
      const reason = backlog.refusal();
      assert.match(reason ?? "", /oldest uncompacted ingestion file is 10 s old \(limit 10 s, -maxUncompactedAge\)/);
      assert.ok(backlog.refusal() !== null);
      assert.equal(logged.length, 1, "the change is logged once");
      const off = new CompactionBacklog(() => f.logs[0]!.state, { limitMs: 0, logger: spy, now: () => now });
      assert.equal(off.refusal(), null, "a limit of 0 never refuses");
      // Compaction catches up: accepted again.
      const compactor = new Compactor({ ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger });
      await compactor.runOnce(now);
      now += 1000;
      assert.equal(backlog.refusal(), null);
      assert.equal(backlog.oldestAgeMs(), 0);
      assert.equal(logged.length, 2);
    } finally {
      await closeFixture(f);
    }
  });

  describe("in an agent whose compaction does not run", function () {
    this.timeout(60_000);
    let agent: TestAgent;
    before(async () => {
      agent = await startTestAgent({ compactionInterval: "1h", maxUncompactedAge: "1s" });
    });
    after(async () => {
      await agent?.stop();
    });

    it("reports the backlog's age, refuses produce with REQUEST_TIMED_OUT and reports not ready past the limit", async () => {
      const http = `http://127.0.0.1:${agent.httpPort}`;
      const kafka = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const producer = kafka.producer();
      await producer.connect();
      try {
        await producer.send({ topic: "stalled", messages: [{ value: "acknowledged" }] });
        assert.equal((await fetch(`${http}/readyz`)).status, 200);
        await new Promise((r) => setTimeout(r, 1600));
        const metrics = await (await fetch(`${http}/metrics`)).text();
        const age = /^warp_oldest_uncompacted_file_age_seconds (\S+)$/m.exec(metrics);
        assert.ok(age && Number(age[1]) > 1, `the gauge reports the backlog:\n${age?.[0]}`);
        const ready = await fetch(`${http}/readyz`);
        assert.equal(ready.status, 503);
        const body = (await ready.json()) as { ready: boolean; reason: string };
        assert.match(body.reason, /compaction is behind/);
        const err = await producer.send({ topic: "stalled", messages: [{ value: "refused" }] }).then(
          () => null,
          (e: unknown) => e,
        );
        assert.equal(kafkaErrorType(err), "REQUEST_TIMED_OUT", String(err));
      } finally {
        await producer.disconnect();
      }
    });
  });
});
