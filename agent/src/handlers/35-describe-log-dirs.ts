/**
 * DescribeLogDirs (35), v0–4. An agent keeps no partition data on local disks: every partition lives in
 * the shared stores and any agent serves it. Each agent answers with one "log directory" named after
 * the store that holds the data (the compaction bucket URL without its endpoint, e.g.
 * `s3://bucket?region=...` or `file:///data`), listing the partitions Metadata names it leader of for
 * this client (so that asking every agent lists each partition once, as replication factor 1 would).
 * Partition size: the bytes of its record batches the store holds (as produced, compressed), including a
 * batch partly below the log start; offset lag 0 (no replicas); never a future log. Total and usable
 * bytes −1 (unknown: object storage has no volume to fill). A topic or partition asked for that does not
 * exist, or that another agent leads, is left out, as Kafka leaves out partitions a broker does not host.
 * Left out: cluster authorization.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

/** Total and usable bytes of the "volume": unknown. */
const UNKNOWN_BYTES = -1n;

defineHandler({ key: ApiKey.DescribeLogDirs, min: 0, max: 4 }, async (req, ctx) => {
  const { agent, connection } = ctx;
  const state = agent.metadata.state;
  const self = agent.cluster.self.nodeId;
  // Topic → the partitions asked for (null: all of them).
  const wanted = new Map<string, Set<number> | null>();
  if (req.topics === null) for (const name of [...state.topics.keys()].sort()) wanted.set(name, null);
  else
    for (const t of req.topics) {
      const before = wanted.get(t.topic) ?? new Set<number>();
      for (const p of t.partitions) before.add(p);
      wanted.set(t.topic, before);
    }
  const topics = [];
  for (const [name, indexes] of wanted) {
    const topic = state.topics.get(name);
    if (!topic) continue;
    const candidates = indexes === null ? topic.partitions.map((_, i) => i) : [...indexes].sort((a, b) => a - b);
    const partitions = [];
    for (const i of candidates) {
      const p = topic.partitions[i];
      if (!p || agent.cluster.leaderFor(name, i, connection.clientZone).nodeId !== self) continue;
      partitions.push({ partitionIndex: i, partitionSize: BigInt(p.bytes), offsetLag: 0n, isFutureKey: false });
    }
    if (partitions.length > 0) topics.push({ name, partitions });
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    // Never an empty list: the Java admin client takes no log directory as an authorization failure.
    results: [
      {
        errorCode: ErrorCode.NONE,
        logDir: agent.dataLocation,
        topics,
        totalBytes: UNKNOWN_BYTES,
        usableBytes: UNKNOWN_BYTES,
      },
    ],
  };
});
