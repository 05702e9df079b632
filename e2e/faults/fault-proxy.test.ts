/**
 * The fault proxy against a plain upstream on loopback: the AWS SDKs read its throttling and 5xx answers
 * as the services' own errors, rules fire at their rates with a seeded RNG, a timeout after forwarding
 * still reaches the upstream, and the partition switch refuses or blackholes until healed.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startFaultProxy } from "../support/fault-proxy.js";
import type { FaultProxy } from "../support/fault-proxy.js";

const CREDENTIALS = { accessKeyId: "warplocal", secretAccessKey: "warplocal" };

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : String(err);
}

async function request(endpoint: string, body = "{}"): Promise<number | string> {
  try {
    const res = await fetch(endpoint, {
      method: "POST",
      body,
      headers: { "x-amz-target": "DynamoDB_20120810.PutItem" },
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return errorName(err);
  }
}

describe("fault proxy", function () {
  this.timeout(60_000);
  let upstream: http.Server;
  let upstreamUrl: string;
  let received = 0;
  const proxies: FaultProxy[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      received++;
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    const address = upstream.address();
    assert.ok(address && typeof address !== "string");
    upstreamUrl = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    for (const p of proxies) await p.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  async function proxy(service: "dynamodb" | "s3", seed = 1): Promise<FaultProxy> {
    const p = await startFaultProxy({ service, upstream: upstreamUrl, seed, maxHoldMs: 2_000 });
    proxies.push(p);
    return p;
  }

  it("answers throttling and 5xx the way the DynamoDB SDK recognises", async () => {
    const p = await proxy("dynamodb");
    const client = new DynamoDBClient({
      region: "us-east-1",
      credentials: CREDENTIALS,
      endpoint: p.endpoint,
      maxAttempts: 1,
    });
    const get = () =>
      client.send(new GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } } })).then(() => "ok", errorName);
    try {
      p.setRules([{ probability: 1, fault: { kind: "throttle" } }]);
      assert.equal(await get(), "ProvisionedThroughputExceededException");
      p.setRules([{ probability: 1, fault: { kind: "throttle", exception: "ThrottlingException" } }]);
      assert.equal(await get(), "ThrottlingException");
      p.setRules([{ probability: 1, fault: { kind: "status", status: 500 } }]);
      assert.equal(await get(), "InternalServerError");
      p.setRules([{ probability: 1, fault: { kind: "throttle" }, operations: ["PutItem"] }]);
      assert.equal(await get(), "ok", "a rule for other operations leaves GetItem alone");
      p.setRules([{ probability: 1, fault: { kind: "throttle" }, bodyIncludes: '"pk":{"S":"b"}' }]);
      assert.equal(await get(), "ok", "a rule for other request bodies leaves this one alone");
      p.setRules([{ probability: 1, fault: { kind: "throttle" }, bodyIncludes: '"pk":{"S":"a"}' }]);
      assert.equal(await get(), "ProvisionedThroughputExceededException", "a rule for this request body applies");
      const c = p.counts();
      assert.equal(c.throttle, 3);
      assert.equal(c.status500, 1);
      assert.equal(c.forwarded, 2);
    } finally {
      client.destroy();
    }
  });

  it("answers S3 calls with SlowDown XML", async () => {
    const p = await proxy("s3");
    const client = new S3Client({
      region: "us-east-1",
      credentials: CREDENTIALS,
      endpoint: p.endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      p.setRules([{ probability: 1, fault: { kind: "throttle" } }]);
      assert.equal(
        await client.send(new GetObjectCommand({ Bucket: "b", Key: "k" })).then(() => "ok", errorName),
        "SlowDown",
      );
    } finally {
      client.destroy();
    }
  });

  it("fires each rule at its rate, and the same seed gives the same sequence", async () => {
    const outcomes = async (seed: number): Promise<Array<number | string>> => {
      const p = await proxy("dynamodb", seed);
      p.setRules([
        { probability: 0.1, fault: { kind: "throttle" } },
        { probability: 0.1, fault: { kind: "status", status: 503 } },
      ]);
      const out: Array<number | string> = [];
      for (let i = 0; i < 400; i++) out.push(await request(p.endpoint));
      const c = p.counts();
      // 1 - 0.9 * 0.9 = 19% of 400 = 76 expected; binomial sd ≈ 8.
      assert.ok(
        c.throttle + c.status503 > 40 && c.throttle + c.status503 < 115,
        `injected ${c.throttle + c.status503} of 400`,
      );
      assert.equal(c.throttle + c.status503 + c.forwarded, 400);
      return out;
    };
    assert.deepEqual(await outcomes(42), await outcomes(42));
  });

  it("a timeout after forwarding reaches the upstream but never answers", async () => {
    const p = await proxy("dynamodb");
    p.setRules([{ probability: 1, fault: { kind: "timeout", holdMs: 100, forward: true } }]);
    const before = received;
    const outcome = await request(p.endpoint);
    assert.notEqual(outcome, 200);
    assert.equal(received, before + 1, "the request reached the upstream");
    assert.equal(p.counts().timeoutForwarded, 1);
  });

  it("refuses or blackholes everything while partitioned, and forwards again once healed", async () => {
    const p = await proxy("dynamodb");
    p.partition("refuse");
    assert.notEqual(await request(p.endpoint), 200);
    p.partition("blackhole");
    const held = request(p.endpoint);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(p.counts().blackholed, 1);
    p.heal();
    assert.notEqual(await held, 200, "a held request is dropped, not answered");
    assert.equal(await request(p.endpoint), 200);
    assert.ok(p.counts().refused >= 1);
  });
});
