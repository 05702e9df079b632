/**
 * Sequential single-record produce: one kafkajs producer sends one record, waits for its acknowledgement
 * (acks=all), then sends the next, for a fixed time; each send's round trip is one sample. Nothing
 * else is in flight, so the figure is the agent's (or the broker's) latency for one lone request: with
 * a batch window it is the window plus the store write, with group commit the store write alone.
 */
import { Kafka, logLevel } from "kafkajs";
import { percentiles, type Percentiles } from "./stats.js";

/** Unmeasured sends before the measured ones (JIT, connections, partition leadership). */
export const SEQUENTIAL_WARMUP_SENDS = 200;

export interface SequentialRun extends Percentiles {
  readonly count: number;
  readonly meanMs: number;
}

/**
 * Sends records of `recordSize` bytes one at a time to `topic` (partitions taken in turn) for `seconds`,
 * after `warmupSends` unmeasured sends; `measuring` is awaited between the two.
 */
export async function sequentialProduce(
  bootstrap: string,
  topic: string,
  partitions: number,
  recordSize: number,
  seconds: number,
  measuring: () => Promise<void> = async () => {},
  warmupSends = SEQUENTIAL_WARMUP_SENDS,
): Promise<SequentialRun> {
  const kafka = new Kafka({ clientId: "bench-sequential", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
  await producer.connect();
  const value = Buffer.alloc(recordSize, 0x61);
  const samples: number[] = [];
  try {
    let n = 0;
    const send = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      await producer.send({ topic, acks: -1, messages: [{ value, partition: n++ % partitions }] });
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let i = 0; i < warmupSends; i++) await send();
    await measuring();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) samples.push(await send());
  } finally {
    await producer.disconnect();
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  const p = percentiles(samples);
  return {
    count: samples.length,
    meanMs: round(mean),
    p50Ms: round(p.p50Ms),
    p99Ms: round(p.p99Ms),
    p999Ms: round(p.p999Ms),
  };
}
