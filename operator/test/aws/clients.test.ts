/**
 * The operator's AWS clients (operator/src/aws/clients.ts) against an endpoint that accepts connections
 * and never answers, as a network partition or a dead peer looks: a call fails after the shared
 * per-attempt socket timeout and attempt count (common/aws/client-settings.ts) instead of holding a
 * reconcile worker for minutes.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { AWS_MAX_ATTEMPTS, AWS_TIMEOUTS_MS } from "../../../common/aws/client-settings.js";
import { LOCAL_AWS } from "../../../e2e/support/dynamodb-local.js";
import { AwsClients } from "../../src/aws/clients.js";

describe("operator AWS clients", function () {
  // Each attempt ends a few seconds after its idle timeout: the SDK arms a timeout of 6 s or more
  // 3 s into the request.
  const budgetMs = AWS_MAX_ATTEMPTS.operator * (AWS_TIMEOUTS_MS.dynamodb.socket + 5_000);
  this.timeout(budgetMs + 30_000);
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let connections = 0;

  before(async () => {
    // The clients take credentials from the default chain.
    process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS.credentials.secretAccessKey;
    silent = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    for (const [key, value] of [
      ["AWS_ACCESS_KEY_ID", savedEnv.id],
      ["AWS_SECRET_ACCESS_KEY", savedEnv.secret],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("a DynamoDB call to a silent endpoint fails within the socket timeout of each attempt", async () => {
    const clients = new AwsClients();
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = Date.now();
      await assert.rejects(clients.dynamodb("us-east-1", endpoint).send(new DescribeTableCommand({ TableName: "t" })));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < budgetMs, `gave up after ${elapsed} ms, expected under ${budgetMs} ms`);
      assert.equal(connections, AWS_MAX_ATTEMPTS.operator, "one connection per attempt");
    } finally {
      clients.destroy();
    }
  });
});
