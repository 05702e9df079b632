/**
 * The TypeScript types are derived from the definitions; these compile-time assertions (checked by
 * `npm run typecheck`) pin down the mapping, and the runtime part checks a decoded value against them.
 */
import assert from "node:assert/strict";
import { ApiKey, decodeRequest, encodeRequest } from "../../src/protocol/index.js";
import type { DecodedResponseOf, RequestInputOf, RequestOf, ResponseOf } from "../../src/protocol/index.js";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

type ProducePartition = RequestOf<typeof ApiKey.Produce>["topicData"][number]["partitionData"][number];
type FetchPartitionOut = ResponseOf<typeof ApiKey.Fetch>["responses"][number]["partitions"][number];
type FetchPartitionIn = DecodedResponseOf<typeof ApiKey.Fetch>["responses"][number]["partitions"][number];
type MetadataTopicIn = RequestOf<typeof ApiKey.Metadata>["topics"];

expectType<Equals<ProducePartition, { index: number; records: Buffer | null }>>();
expectType<Equals<RequestOf<typeof ApiKey.Produce>["transactionalId"], string | null>>();
expectType<Equals<FetchPartitionOut["records"], Buffer | readonly Buffer[] | null>>();
expectType<Equals<FetchPartitionIn["records"], Buffer | null>>();
expectType<Equals<FetchPartitionIn["highWatermark"], bigint>>();
// Version-limited and tagged fields are optional for encoders, present after decoding.
expectType<Equals<FetchPartitionOut["preferredReadReplica"], number | undefined>>();
expectType<Equals<FetchPartitionIn["currentLeader"], { leaderId: number; leaderEpoch: number }>>();
expectType<Equals<MetadataTopicIn, Array<{ topicId: string; name: string | null }> | null>>();
expectType<Equals<RequestInputOf<typeof ApiKey.Heartbeat>["groupInstanceId"], string | null | undefined>>();

describe("protocol types", () => {
  it("a decoded Metadata v12 request matches its derived type", () => {
    const frame = encodeRequest(
      { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 1, clientId: "c" },
      {
        topics: [{ topicId: "0123456789abcdef0123456789abcdef", name: null }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: true,
      },
    );
    const decoded = decodeRequest(frame.subarray(4)).body as RequestOf<typeof ApiKey.Metadata>;
    assert.deepEqual(decoded, {
      topics: [{ topicId: "0123456789abcdef0123456789abcdef", name: null }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    });
  });
});
