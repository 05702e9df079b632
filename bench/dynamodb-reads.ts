/**
 * Sub-benchmark: how long one BatchGetItem answer of full chunks blocks the event loop, by keys per call,
 * and whole-object reads through the agent's DynamoDB object store (`npx tsx bench/dynamodb-reads.ts`),
 * against DynamoDB Local on an otherwise idle machine. The SDK decodes an answer in one synchronous step
 * (the body as one string, JSON.parse, every binary attribute's base64 checked and decoded), so that
 * step grows with the answer; the rows give the longest event-loop wait beside the time and MiB/s.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { batchGet } from "../agent/src/store/dynamodb/client.js";
import { makeDynamoClient, openDynamoStores } from "../agent/src/store/dynamodb/index.js";
import { descriptorPk } from "../agent/src/store/dynamodb/objects.js";
import { LOCAL_AWS, startDynamoDbLocal } from "../e2e/support/dynamodb-local.js";

const MiB = 1024 * 1024;
const CHUNK = 358_400;
const CHUNKS = 40;
const ROUNDS = 8;

interface Row {
  ms: number;
  mibPerS: number;
  maxDelayMs: number;
}

async function timed(mib: number, rounds: number, body: () => Promise<void>): Promise<Row> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const began = performance.now();
  for (let i = 0; i < rounds; i++) await body();
  const ms = performance.now() - began;
  delay.disable();
  return { ms: ms / rounds, mibPerS: (mib * rounds) / (ms / 1000), maxDelayMs: delay.max / 1e6 };
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  const ddb = await startDynamoDbLocal();
  try {
    const client = makeDynamoClient({ region: LOCAL_AWS.region, endpoint: ddb.endpoint });
    const stores = await openDynamoStores(
      {
        kind: "dynamodb",
        region: LOCAL_AWS.region,
        filesTable: "reads-files",
        chunksTable: "reads-chunks",
        endpoint: ddb.endpoint,
      },
      { createTables: true, client },
    );
    const objects = stores.ingestion;
    const data = Buffer.alloc(CHUNKS * CHUNK);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    await objects.put("object", data);
    console.log(`DynamoDB Local: one object of ${CHUNKS} chunks of ${CHUNK} B; ${ROUNDS} rounds per row`);
    const pks = await chunkSetOf(client);
    for (const keys of [1, 4, 8, 16, 40]) {
      const wanted = Array.from({ length: keys }, (_, i) => ({ pk: { S: pks }, sk: { N: String(i) } }));
      const row = await timed((keys * CHUNK) / MiB, ROUNDS, async () => {
        const items = await batchGet(client, "reads-chunks", wanted, { consistent: false, projection: "sk, d" });
        if (items.length !== keys) throw new Error(`asked ${keys} chunks, got ${items.length}`);
      });
      console.log(
        `  one BatchGetItem of ${keys} chunks (${((keys * CHUNK) / MiB).toFixed(1)} MiB): ${row.ms.toFixed(0)} ms, ${row.mibPerS.toFixed(0)} MiB/s, event-loop delay max ${row.maxDelayMs.toFixed(1)} ms`,
      );
    }
    const whole = await timed(data.length / MiB, ROUNDS, async () => {
      const got = await objects.get("object", undefined, { consistent: false });
      if (!got.equals(data)) throw new Error("object read back differs");
    });
    console.log(
      `  the whole object through the store (${(data.length / MiB).toFixed(1)} MiB): ${whole.ms.toFixed(0)} ms, ${whole.mibPerS.toFixed(0)} MiB/s, event-loop delay max ${whole.maxDelayMs.toFixed(1)} ms`,
    );
    await stores.close();
    client.destroy();
  } finally {
    await ddb.stop();
  }
}

/** The chunk-set partition key the object's descriptor points at (layout: docs/storage-format.md). */
async function chunkSetOf(client: DynamoDBClient): Promise<string> {
  const out = await client.send(
    new GetItemCommand({ TableName: "reads-files", Key: { pk: { S: descriptorPk("object") }, sk: { S: "object" } } }),
  );
  const pk = out.Item?.cpk?.S;
  if (!pk) throw new Error("the object has no chunk set");
  return pk;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
