/**
 * CreateAcls, DescribeAcls and DeleteAcls on the wire, in every version offered: SECURITY_DISABLED with
 * authorization off; with it on, strict validation per binding (INVALID_REQUEST with a message naming
 * the problem, the valid bindings of the same request created), duplicates kept once, listings grouped by
 * resource pattern with Kafka's filters, deletions answered per filter. A request naming a code Kafka
 * does not define closes its connection only; a fuzz of mutated ACL requests (valid frames with random
 * codes, bytes flipped, cut short) never takes the agent or another connection down.
 *
 *   WARP_ACL_FUZZ_CASES  number of fuzz cases (default 300)
 *   WARP_ACL_FUZZ_SEED   seed (default: random; printed so a failure can be replayed)
 */
import assert from "node:assert/strict";
import { ApiKey, encodeRequest, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";
import { Rng } from "../protocol/samples.js";

const FUZZ_CASES = Number(process.env.WARP_ACL_FUZZ_CASES ?? 300);
const FUZZ_SEED = Number(process.env.WARP_ACL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Creation {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

const TOPIC = 2;
const GROUP = 3;
const CLUSTER = 4;
const LITERAL = 3;
const PREFIXED = 4;
const READ = 3;
const WRITE = 4;
const ALLOW = 3;
const DENY = 2;
const ANY = 1;

const creation = (over: Partial<Creation> = {}): Creation => ({
  resourceType: TOPIC,
  resourceName: "orders",
  resourcePatternType: LITERAL,
  principal: "User:alice",
  host: "*",
  operation: READ,
  permissionType: ALLOW,
  ...over,
});

const ANY_FILTER = {
  resourceTypeFilter: ANY,
  resourceNameFilter: null,
  patternTypeFilter: ANY,
  principalFilter: null,
  hostFilter: null,
  operation: ANY,
  permissionType: ANY,
};

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

describe("the ACL APIs on the wire", function () {
  this.timeout(120_000);

  describe("with authorization off", () => {
    let agent: TestAgent;
    let client: RawKafkaClient;
    before(async () => {
      agent = await startTestAgent();
      client = await RawKafkaClient.connect(agent.port);
    });
    after(async () => {
      client?.close();
      await agent?.stop();
    });

    for (const version of [1, 2, 3])
      it(`v${version}: every ACL request answers SECURITY_DISABLED, as a broker without an authorizer`, async () => {
        const created = await client.request(ApiKey.CreateAcls, version, { creations: [creation()] });
        assert.deepEqual(
          created.results.map((r) => r.errorCode),
          [ErrorCode.SECURITY_DISABLED],
        );
        const described = await client.request(ApiKey.DescribeAcls, version, ANY_FILTER);
        assert.equal(described.errorCode, ErrorCode.SECURITY_DISABLED);
        assert.match(described.errorMessage ?? "", /-authorizationEnabled/);
        const deleted = await client.request(ApiKey.DeleteAcls, version, { filters: [ANY_FILTER, ANY_FILTER] });
        assert.deepEqual(
          deleted.filterResults.map((r) => r.errorCode),
          [ErrorCode.SECURITY_DISABLED, ErrorCode.SECURITY_DISABLED],
        );
      });
  });

  describe("with authorization on (the plaintext client is a super user)", () => {
    let agent: TestAgent;
    let client: RawKafkaClient;
    before(async () => {
      agent = await startTestAgent({ authorizationEnabled: "true", superUsers: "User:ANONYMOUS" });
      client = await RawKafkaClient.connect(agent.port);
    });
    after(async () => {
      client?.close();
      await agent?.stop();
    });
    afterEach(async () => {
      await client.request(ApiKey.DeleteAcls, 3, { filters: [ANY_FILTER] });
    });

    it("creates valid bindings and answers each invalid one INVALID_REQUEST, naming the problem", async () => {
      const cases: Array<[Creation, RegExp | null]> = [
        [creation(), null],
        [
          creation({ resourceName: "orders-", resourcePatternType: PREFIXED, operation: WRITE, host: "10.0.0.1" }),
          null,
        ],
        [creation({ resourceType: CLUSTER, resourceName: "kafka-cluster", operation: 12, principal: "User:*" }), null],
        [creation({ resourceType: 5, resourceName: "*", operation: WRITE, permissionType: DENY, host: "::1" }), null],
        [creation({ resourceType: ANY }), /resource type ANY cannot be named/],
        [creation({ resourceType: 6 }), /resource type DELEGATION_TOKEN cannot be named in an ACL here/],
        [creation({ resourcePatternType: 2 }), /pattern type MATCH cannot be named/],
        [creation({ resourcePatternType: ANY }), /pattern type ANY cannot be named/],
        [creation({ operation: ANY }), /operation ANY cannot be named/],
        [creation({ permissionType: ANY }), /permission type ANY cannot be named/],
        [creation({ resourceName: "" }), /resource name must not be empty/],
        [
          creation({ resourceType: CLUSTER, resourceName: "other", operation: 7 }),
          /only valid name for the CLUSTER resource is kafka-cluster/,
        ],
        [creation({ principal: "alice" }), /principal "alice" is not of the form User:<name>/],
        [creation({ principal: "Group:ops" }), /only User principals exist here/],
        [creation({ principal: "User:" }), /not of the form User:<name>/],
        [creation({ host: "localhost" }), /host "localhost" is neither \* nor an IP address/],
        [creation({ resourceType: GROUP, operation: WRITE }), /operation WRITE does not apply to GROUP resources/],
      ];
      const out = await client.request(ApiKey.CreateAcls, 3, { creations: cases.map(([c]) => c) });
      out.results.forEach((r, i) => {
        const expected = cases[i]![1];
        if (expected === null) assert.deepEqual([r.errorCode, r.errorMessage], [ErrorCode.NONE, null], `case ${i}`);
        else {
          assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST, `case ${i}`);
          assert.match(r.errorMessage ?? "", expected, `case ${i}`);
        }
      });
      assert.equal(agent.running.context.metadata.state.acls.size, 4);
    });

    for (const version of [1, 2, 3])
      it(`v${version}: lists bindings grouped by resource pattern, filtered as Kafka filters, and deletes per filter`, async () => {
        const created = await client.request(ApiKey.CreateAcls, version, {
          creations: [
            creation(),
            creation({ operation: WRITE }),
            creation(),
            creation({ resourceName: "*", principal: "User:bob" }),
            creation({ resourceName: "ord", resourcePatternType: PREFIXED, permissionType: DENY }),
            creation({ resourceType: GROUP, resourceName: "g" }),
          ],
        });
        assert.deepEqual(
          created.results.map((r) => r.errorCode),
          [0, 0, 0, 0, 0, 0],
        );
        assert.equal(agent.running.context.metadata.state.acls.size, 5, "the duplicate is kept once");

        const listed = await client.request(ApiKey.DescribeAcls, version, ANY_FILTER);
        assert.equal(listed.errorCode, ErrorCode.NONE);
        assert.deepEqual(
          listed.resources.map((r) => [r.resourceType, r.resourceName, r.patternType, r.acls.length]),
          [
            [GROUP, "g", LITERAL, 1],
            [TOPIC, "*", LITERAL, 1],
            [TOPIC, "orders", LITERAL, 2],
            [TOPIC, "ord", PREFIXED, 1],
          ],
        );
        assert.deepEqual(listed.resources[2]!.acls, [
          { principal: "User:alice", host: "*", operation: READ, permissionType: ALLOW },
          { principal: "User:alice", host: "*", operation: WRITE, permissionType: ALLOW },
        ]);
        const match = await client.request(ApiKey.DescribeAcls, version, {
          ...ANY_FILTER,
          resourceTypeFilter: TOPIC,
          resourceNameFilter: "orders",
          patternTypeFilter: 2,
        });
        assert.deepEqual(
          match.resources.map((r) => r.resourceName),
          ["*", "orders", "ord"],
          "MATCH: every binding that applies to topic orders",
        );
        const bobs = await client.request(ApiKey.DescribeAcls, version, { ...ANY_FILTER, principalFilter: "User:bob" });
        assert.deepEqual(
          bobs.resources.map((r) => r.resourceName),
          ["*"],
        );

        const deleted = await client.request(ApiKey.DeleteAcls, version, {
          filters: [
            { ...ANY_FILTER, resourceTypeFilter: TOPIC, resourceNameFilter: "orders", patternTypeFilter: LITERAL },
            { ...ANY_FILTER, operation: WRITE },
            { ...ANY_FILTER, principalFilter: "User:nobody" },
          ],
        });
        assert.deepEqual(
          deleted.filterResults.map((f) => [f.errorCode, f.matchingAcls.map((a) => [a.resourceName, a.operation])]),
          [
            [
              0,
              [
                ["orders", READ],
                ["orders", WRITE],
              ],
            ],
            [0, [["orders", WRITE]]],
            [0, []],
          ],
        );
        assert.equal(agent.running.context.metadata.state.acls.size, 3);
      });

    it("closes only the connection of a request naming a code Kafka does not define", async () => {
      const requests: Array<[string, (c: RawKafkaClient) => Promise<unknown>]> = [
        [
          "CreateAcls, resource type 0",
          (c) => c.request(ApiKey.CreateAcls, 3, { creations: [creation({ resourceType: 0 })] }),
        ],
        [
          "CreateAcls, operation 99",
          (c) => c.request(ApiKey.CreateAcls, 2, { creations: [creation({ operation: 99 })] }),
        ],
        [
          "CreateAcls, permission -1",
          (c) => c.request(ApiKey.CreateAcls, 1, { creations: [creation({ permissionType: -1 })] }),
        ],
        [
          "DescribeAcls, pattern type 0",
          (c) => c.request(ApiKey.DescribeAcls, 3, { ...ANY_FILTER, patternTypeFilter: 0 }),
        ],
        [
          "DescribeAcls, resource type 8",
          (c) => c.request(ApiKey.DescribeAcls, 1, { ...ANY_FILTER, resourceTypeFilter: 8 }),
        ],
        [
          "DeleteAcls, operation 0 in the second filter",
          (c) => c.request(ApiKey.DeleteAcls, 3, { filters: [ANY_FILTER, { ...ANY_FILTER, operation: 0 }] }),
        ],
      ];
      for (const [label, send] of requests) {
        const bad = await RawKafkaClient.connect(agent.port);
        await assert.rejects(send(bad), /connection closed/, label);
        assert.ok(await bad.waitClosed(), label);
        const listed = await client.request(ApiKey.DescribeAcls, 3, ANY_FILTER);
        assert.equal(listed.errorCode, ErrorCode.NONE, `${label}: the other connection still answers`);
      }
      assert.equal(agent.running.context.metadata.state.acls.size, 0, "nothing was created or deleted");
    });

    it(`survives ${FUZZ_CASES} mutated ACL requests (seed ${FUZZ_SEED}), answering or closing only their connection`, async () => {
      const rng = new Rng(FUZZ_SEED);
      const code = () => [0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 99, -1, 127][rng.int(14)]!;
      const text = () => ["orders", "", "*", "User:alice", "alice", "10.0.0.1", "::1", "x".repeat(300)][rng.int(8)]!;
      const maybe = () => (rng.int(4) === 0 ? null : text());
      const filter = () => ({
        resourceTypeFilter: code(),
        resourceNameFilter: maybe(),
        patternTypeFilter: code(),
        principalFilter: maybe(),
        hostFilter: maybe(),
        operation: code(),
        permissionType: code(),
      });
      let answered = 0;
      let closed = 0;
      for (let i = 0; i < FUZZ_CASES; i++) {
        const version = 1 + rng.int(3);
        const key = [ApiKey.CreateAcls, ApiKey.DescribeAcls, ApiKey.DeleteAcls][rng.int(3)]!;
        const header = { apiKey: key, apiVersion: version, correlationId: i, clientId: "fuzz" };
        const body =
          key === ApiKey.CreateAcls
            ? {
                creations: Array.from({ length: rng.int(4) }, () => ({
                  resourceType: code(),
                  resourceName: text(),
                  resourcePatternType: code(),
                  principal: text(),
                  host: text(),
                  operation: code(),
                  permissionType: code(),
                })),
              }
            : key === ApiKey.DescribeAcls
              ? filter()
              : { filters: Array.from({ length: rng.int(4) }, filter) };
        let bytes = encodeRequest(header as never, body as never).subarray(4);
        const mutation = rng.int(4);
        if (mutation === 1) bytes = bytes.subarray(0, 8 + rng.int(Math.max(1, bytes.length - 8)));
        else if (mutation === 2) {
          bytes = Buffer.from(bytes);
          const at = 8 + rng.int(Math.max(1, bytes.length - 8));
          if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
        }
        const c = await RawKafkaClient.connect(agent.port);
        c.socket.write(frame(bytes));
        try {
          await c.readFrame();
          answered++;
        } catch {
          assert.ok(await c.waitClosed(), `case ${i} (seed ${FUZZ_SEED}): neither answered nor closed`);
          closed++;
        }
        c.close();
      }
      // The agent serves on; whatever the fuzz created is well formed (the fold checks every binding).
      const listed = await client.request(ApiKey.DescribeAcls, 3, ANY_FILTER);
      assert.equal(listed.errorCode, ErrorCode.NONE);
      assert.ok(answered > 0 && closed > 0, `both outcomes seen (answered ${answered}, closed ${closed})`);
    });
  });
});
