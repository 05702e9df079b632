/**
 * End-to-end latency: a kcat (librdkafka) consumer tails every partition from the end and prints each
 * record's timestamp (set by the producer when it sends the record); the time it reaches this process
 * minus that timestamp is the produce → consume latency.
 */
import { spawn } from "node:child_process";
import { ensureKcat } from "../../e2e/support/kcat.js";
import { percentiles, type Percentiles } from "./stats.js";

export interface LatencyConsumer {
  /** Stops kcat and returns the latency percentiles of the records it saw. */
  stop(): Promise<Percentiles & { readonly count: number }>;
}

/** Starts kcat on `topic` and resolves once it has reached the end of all `partitions`. */
export async function startLatencyConsumer(
  bootstrap: string,
  topic: string,
  partitions: number,
): Promise<LatencyConsumer> {
  const kcat = await ensureKcat();
  const child = spawn(
    kcat,
    [
      "-b",
      bootstrap,
      "-C",
      "-t",
      topic,
      "-o",
      "end",
      "-u",
      "-f",
      "%T\n",
      "-X",
      "fetch.wait.max.ms=500",
      "-X",
      "topic.metadata.refresh.interval.ms=1000",
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const latencies: number[] = [];
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const now = Date.now();
    const text = partial + chunk.toString("utf8");
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      const ts = Number(l);
      if (l !== "" && Number.isFinite(ts) && ts > 0) latencies.push(now - ts);
    }
  });
  let err = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kcat did not reach the end of ${topic} within 30 s:\n${err}`)),
      30_000,
    );
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
      if ((err.match(/Reached end of topic/g) ?? []).length >= partitions) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`kcat exited early:\n${err}`));
    });
  });
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      return { ...percentiles(latencies), count: latencies.length };
    },
  };
}
