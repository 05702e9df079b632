/**
 * Sub-benchmark: ranged reads of one compacted-size object through the agent's S3 object store, from
 * the bench's S3 server on an otherwise idle machine (`npx tsx bench/s3-reads.ts`): per read size and
 * reads in flight, the time per read, MiB/s, and the agent process's CPU per MiB read (what a consumer
 * of compacted data costs the agent in store reads alone), and the longest the event loop waited meanwhile.
 *
 *   WARP_BENCH_S3   versitygw (default) or moto
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3ObjectStore } from "../agent/src/store/s3/index.js";
import { LOCAL_AWS } from "../e2e/support/dynamodb-local.js";
import { startS3Server } from "../e2e/support/s3-server.js";
import { benchS3Kind, s3ServerDescription } from "./lib/targets.js";

const MiB = 1024 * 1024;
const OBJECT_MIB = 64;
const READS = 16;

async function main(): Promise<void> {
  const server = await startS3Server({ kind: benchS3Kind() });
  const admin = new S3Client({ ...LOCAL_AWS, endpoint: server.endpoint, forcePathStyle: true });
  try {
    await admin.send(new CreateBucketCommand({ Bucket: "warp-bench-reads" }));
    process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS.credentials.secretAccessKey;
    const store = new S3ObjectStore("warp-bench-reads", "reads/", {
      region: LOCAL_AWS.region,
      endpoint: server.endpoint,
      forcePathStyle: true,
    });
    await store.put("object", Buffer.alloc(OBJECT_MIB * MiB, 7));
    console.log(`${s3ServerDescription()}: ${READS} ranged reads of a ${OBJECT_MIB} MiB object per row`);
    for (const size of [1, 4, 16]) {
      for (const inFlight of [1, 4]) {
        const delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        const began = performance.now();
        const cpu = process.cpuUsage();
        let next = 0;
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < READS) {
              const i = next++;
              await store.get("object", { offset: ((i * size) % (OBJECT_MIB - size)) * MiB, length: size * MiB });
            }
          }),
        );
        const ms = performance.now() - began;
        const used = process.cpuUsage(cpu);
        delay.disable();
        console.log(
          `  ${size} MiB reads, ${inFlight} in flight: ${((ms / READS) * inFlight).toFixed(1)} ms each, ${((READS * size) / (ms / 1000)).toFixed(0)} MiB/s, agent CPU ${((used.user + used.system) / 1000 / (READS * size)).toFixed(2)} ms per MiB, event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms`,
        );
      }
    }
    await store.close();
  } finally {
    admin.destroy();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
