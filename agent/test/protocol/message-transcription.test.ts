/**
 * How scripts/gen-protocol-messages.ts transcribes Kafka's JSON message specs into definitions, on a
 * hand-built spec (the committed files themselves are compared by `npm run check:protocol`).
 */
import assert from "node:assert/strict";
import {
  capRange,
  defaultLiteral,
  diffSummary,
  indexFile,
  messageDefinition,
} from "../../../scripts/gen-protocol-messages.js";
import type { MessageSpec } from "../../../scripts/gen-protocol-messages.js";

const SPEC: MessageSpec = {
  name: "ExampleResponse",
  validVersions: "0-9",
  flexibleVersions: "3+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+" },
    { name: "ErrorCode", type: "int16", versions: "0+", default: "-1" },
    { name: "LeaderEpoch", type: "int64", versions: "2-3", default: "-1" },
    { name: "Future", type: "string", versions: "6+" },
    { name: "Host", type: "string", versions: "0+", nullableVersions: "1+", default: "null" },
    { name: "Ids", type: "[]int32", versions: "0+" },
    { name: "Leader", type: "Endpoint", versions: "0+", tag: 0, taggedVersions: "3+" },
    {
      name: "Topics",
      type: "[]Topic",
      versions: "0+",
      fields: [{ name: "Name", type: "string", versions: "0+" }],
    },
  ],
  commonStructs: [{ name: "Endpoint", fields: [{ name: "Port", type: "int32", versions: "0+" }] }],
};

describe("protocol message transcription (scripts/gen-protocol-messages.ts)", () => {
  it("caps version ranges at the highest version served", () => {
    assert.equal(capRange("0+", 5), "0+");
    assert.equal(capRange("2-8", 5), "2+");
    assert.equal(capRange("2-4", 5), "2-4");
    assert.equal(capRange("3", 5), "3");
    assert.equal(capRange("6+", 5), null);
    assert.equal(capRange("none", 5), null);
  });

  it("writes defaults as literals of the field's type", () => {
    assert.equal(defaultLiteral("int64", "-1"), "-1n");
    assert.equal(defaultLiteral("int32", "0x7fffffff"), "2147483647");
    assert.equal(defaultLiteral("bool", "false"), "false");
    assert.equal(defaultLiteral("string", "null"), "null");
    assert.equal(defaultLiteral("string", ""), '""');
    assert.throws(() => defaultLiteral("uuid", "x"), /cannot write default x of type uuid/);
  });

  it("writes camelCased fields up to the cap, inlines common structs, keeps tags, nullability and defaults", () => {
    assert.equal(
      messageDefinition(7, "Example", 5, "Response", SPEC),
      `
export const ExampleResponse = {
  apiKey: 7,
  name: "ExampleResponse",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+", default: -1 },
    { name: "leaderEpoch", type: "int64", versions: "2-3", default: -1n },
    { name: "host", type: "string", versions: "0+", nullableVersions: "1+", default: null },
    { name: "ids", type: "int32[]", versions: "0+" },
    { name: "leader", type: "struct", versions: "0+", tag: 0, taggedVersions: "3+", fields: [
      { name: "port", type: "int32", versions: "0+" },
    ] },
    { name: "topics", type: "struct[]", versions: "0+", fields: [
      { name: "name", type: "string", versions: "0+" },
    ] },
  ],
} as const satisfies MessageDef;
`,
    );
  });

  it("refuses a spec that does not reach the version served, or names an unknown struct", () => {
    assert.throws(() => messageDefinition(7, "Example", 12, "Response", SPEC), /covers versions 0-9, not 0-12/);
    const unknown: MessageSpec = { ...SPEC, commonStructs: [] };
    assert.throws(() => messageDefinition(7, "Example", 5, "Response", unknown), /no struct Endpoint/);
  });

  it("registers every API in index.ts by key, from its NN-kebab-name file", () => {
    const index = indexFile([
      [0, "Produce", 11],
      [44, "IncrementalAlterConfigs", 1],
    ]);
    assert.match(index, /import \{ ProduceRequest, ProduceResponse \} from "\.\/00-produce\.js";/);
    assert.match(index, /from "\.\/44-incremental-alter-configs\.js";/);
    assert.match(
      index,
      / {2}44: \{ request: IncrementalAlterConfigsRequest, response: IncrementalAlterConfigsResponse \},/,
    );
  });

  it("summarizes a difference by its first changed region", () => {
    const summary = diffSummary("a\nb\nc\nd\n", "a\nB\nc\nd\n");
    assert.equal(summary, "  @@ line 2: 1 committed, 1 generated\n- b\n+ B");
  });
});
