/**
 * Retries of the agent's DynamoDB stores, through the fault proxy (e2e/support/fault-proxy.ts) in front
 * of DynamoDB Local, on a client built by makeDynamoClient: a store call that keeps failing makes the
 * SDK's configured number of attempts, with short backoff, and then fails with the store's error; a
 * call that is never answered fails at its deadline. Before, a second retry layer around the SDK's
 * multiplied the attempts (up to 16 × 10 for one call, minutes of waiting), and a silent store held a
 * call for every attempt's socket timeout in turn.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { AWS_MAX_ATTEMPTS, DYNAMODB_CALL_DEADLINE_MS } from "../../../common/aws/client-settings.js";
import { awsErrorName } from "../../../common/aws/errors.js";
import { LOCAL_AWS } from "../../../e2e/support/dynamodb-local.js";
import { startFaultProxy, type FaultCounts, type FaultProxy } from "../../../e2e/support/fault-proxy.js";
import { openDynamoStores } from "../../src/store/dynamodb/index.js";
import type { Stores } from "../../src/store/types.js";
import { startDynamo, type TestServer } from "./servers.js";

const ATTEMPTS = AWS_MAX_ATTEMPTS.agent;

describe("dynamodb store retries", function () {
  // Each failing call waits up to 7.2 s between its attempts (about 3.6 s on average).
  this.timeout(30_000);
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  let server: TestServer;
  let proxy: FaultProxy;
  let stores: Stores;

  before(async function () {
    this.timeout(180_000);
    // makeDynamoClient takes credentials from the default chain.
    process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS.credentials.secretAccessKey;
    server = await startDynamo();
    proxy = await startFaultProxy({ service: "dynamodb", upstream: server.endpoint, seed: 1 });
    const id = `${process.pid}-${randomBytes(3).toString("hex")}`;
    stores = await openDynamoStores(
      {
        kind: "dynamodb",
        region: LOCAL_AWS.region,
        filesTable: `warp-files-retry-${id}`,
        chunksTable: `warp-chunks-retry-${id}`,
        endpoint: proxy.endpoint,
      },
      { createTables: true },
    );
  });

  afterEach(() => proxy.setRules([]));

  after(async () => {
    await stores?.close();
    await proxy?.close();
    await server?.stop();
    for (const [key, value] of [
      ["AWS_ACCESS_KEY_ID", savedEnv.id],
      ["AWS_SECRET_ACCESS_KEY", savedEnv.secret],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  /** Runs `call`, which must fail; returns its error and what the proxy saw meanwhile. */
  async function failing(call: () => Promise<unknown>): Promise<{ error: unknown; counts: FaultCounts }> {
    const before = proxy.counts();
    const error = await call().then(
      () => assert.fail("the call succeeded"),
      (err: unknown) => err,
    );
    const after = proxy.counts();
    const counts = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - before[k as keyof FaultCounts]]),
    ) as unknown as FaultCounts;
    return { error, counts };
  }

  it("a log append throttled on every attempt makes the configured attempts, then fails with the throttling error", async () => {
    proxy.setRules([{ probability: 1, fault: { kind: "throttle" }, operations: ["PutItem"] }]);
    const { error, counts } = await failing(() => stores.metadata.append(1n, Buffer.from("entry")));
    assert.equal(awsErrorName(error), "ProvisionedThroughputExceededException");
    assert.equal(counts.throttle, ATTEMPTS, "one request per attempt");
    assert.equal(counts.requests, ATTEMPTS, "no other calls");
  });

  it("an object read answered 500 on every attempt makes the configured attempts, then fails with the service error", async () => {
    await stores.ingestion.put("retried", Buffer.from("bytes"));
    proxy.setRules([{ probability: 1, fault: { kind: "status", status: 500 }, operations: ["GetItem"] }]);
    const { error, counts } = await failing(() => stores.ingestion.get("retried"));
    assert.equal(awsErrorName(error), "InternalServerError");
    assert.equal(counts.status500, ATTEMPTS, "one request per attempt");
    assert.equal(counts.requests, ATTEMPTS, "no other calls");
    proxy.setRules([]);
    assert.deepEqual(await stores.ingestion.get("retried"), Buffer.from("bytes"), "the store works again");
  });

  it("a log read that is never answered fails at the call deadline", async function () {
    this.timeout(DYNAMODB_CALL_DEADLINE_MS + 15_000);
    proxy.setRules([{ probability: 1, fault: { kind: "timeout", holdMs: 120_000 }, operations: ["Query"] }]);
    const started = Date.now();
    const { error } = await failing(() => stores.metadata.read(1n, 10));
    const elapsed = Date.now() - started;
    assert.equal(awsErrorName(error), "AbortError");
    assert.ok(
      elapsed >= DYNAMODB_CALL_DEADLINE_MS - 100 && elapsed < DYNAMODB_CALL_DEADLINE_MS + 3_000,
      `failed after ${elapsed} ms, deadline ${DYNAMODB_CALL_DEADLINE_MS} ms`,
    );
  });
});
