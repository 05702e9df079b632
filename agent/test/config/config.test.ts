/**
 * parseAgentConfig: defaults, every flag and its environment twin, precedence, and a message naming the
 * flag (or variable) and the bad value for each kind of bad input. normaliseFlagArgs: the four spellings
 * of a flag (Go -name value / -name=value, GNU --name value / --name=value) and unknown flags.
 */
import assert from "node:assert/strict";
import { normaliseFlagArgs, UsageError } from "../../../cli/flags.js";
import { ConfigError } from "../../../common/flags/read.js";
import { parseByteSize, parseGoDuration } from "../../../common/flags/values.js";
import { AGENT_FLAG_LIST, AGENT_FLAGS } from "../../src/config/flags.js";
import { type AgentConfig, parseAgentConfig } from "../../src/config/parse.js";

const BASE = { bucketURL: "mem://t" };
const MiB = 1024 * 1024;

function parse(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = {}): AgentConfig {
  return parseAgentConfig(flags, env);
}

function assertConfigError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    for (const part of parts)
      assert.ok(
        err.message.includes(part),
        `message ${JSON.stringify(err.message)} should name ${JSON.stringify(part)}`,
      );
    return true;
  });
}

describe("agent config", () => {
  describe("defaults", () => {
    it("fills every field from its default with only -bucketURL given", () => {
      const c = parse({ bucketURL: "file://./data" });
      assert.equal(c.advertisedPort, undefined, "advertised port defaults to the Kafka port bound");
      assert.equal(c.clusterId, undefined);
      assert.equal(c.nodeId, undefined);
      assert.deepEqual(c, {
        bucketUrl: { kind: "file", path: "./data" },
        batchTimeoutMs: 250,
        sealMode: "eager",
        sealIdleGapMs: 0,
        maxFileBytes: 8 * MiB,
        kafkaHost: "0.0.0.0",
        kafkaPort: 9092,
        httpPort: 8080,
        advertisedHost: "localhost",
        availabilityZone: null,
        autoCreateTopics: true,
        defaultPartitions: 1,
        maxFrameBytes: 100 * MiB,
        maxConnections: 10000,
        maxInFlightRequests: 64,
        maxProduceBufferBytes: 256 * MiB,
        fetchCacheBytes: 256 * MiB,
        fetchSessionCacheSlots: 1000,
        gracefulShutdownMs: 30000,
        ingestionTtlMs: 3_600_000,
        maxUncompactedAgeMs: 1_800_000,
        compactionIntervalMs: 2000,
        compactionMinBytes: 4 * 1024 * 1024,
        compactionMaxWaitMs: 30_000,
        compactionWorker: true,
        metadataSnapshotEntries: 2000,
        metadataIdlePollMs: 1000,
        metadataLogEntryTtlMs: 7 * 24 * 3_600_000,
        retentionIntervalMs: 30_000,
        gcGraceMs: 300_000,
        createTables: true,
        transactions: true,
        sequencer: true,
        sequencerLingerMs: 10,
        windowAlign: true,
        logLevel: "info",
        kafkaSecurityReloadIntervalMs: 30_000,
        authorization: { enabled: false, superUsers: [], allowEveryoneIfNoAclFound: false },
        kafkaConnectionsMaxReauthMs: 0,
      } satisfies AgentConfig);
    });

    it("compaction waits for 4 MiB or 30 s by default, less with a short -ingestionTTL or -maxUncompactedAge, never up to the latter", () => {
      const c = parse({ bucketURL: "mem://a" });
      assert.deepEqual([c.compactionMinBytes, c.compactionMaxWaitMs], [4 * 1024 * 1024, 30_000]);
      assert.equal(parse({ bucketURL: "mem://a", ingestionTTL: "20s" }).compactionMaxWaitMs, 2000);
      assert.equal(parse({ bucketURL: "mem://a", maxUncompactedAge: "1s" }).compactionMaxWaitMs, 250);
      const set = parse({ bucketURL: "mem://a", compactionMinBytes: "0", compactionMaxWait: "5s" });
      assert.deepEqual([set.compactionMinBytes, set.compactionMaxWaitMs], [0, 5000]);
      assert.throws(
        () => parse({ bucketURL: "mem://a", ingestionTTL: "20s", compactionMaxWait: "10s" }),
        /^ConfigError: -compactionMaxWait \(WARP_COMPACTION_MAX_WAIT\) 10000 ms must stay below -maxUncompactedAge \(WARP_MAX_UNCOMPACTED_AGE, 10000 ms: half of -ingestionTTL\)/,
      );
      assert.equal(
        parse({ bucketURL: "mem://a", maxUncompactedAge: "0", compactionMaxWait: "1h" }).compactionMaxWaitMs,
        3_600_000,
      );
    });

    it("auto-creates topics by default for mem:// and file:// but not for dynamodb://", () => {
      assert.equal(parse({ bucketURL: "mem://a" }).autoCreateTopics, true);
      assert.equal(parse({ bucketURL: "file:///tmp/a" }).autoCreateTopics, true);
      assert.equal(parse({ bucketURL: "dynamodb://us-east-1/files<>chunks" }).autoCreateTopics, false);
      assert.equal(
        parse({
          ingestionBucketURL: "dynamodb://us-east-1/files<>chunks",
          compactionBucketURL: "s3://bucket-a?region=us-east-1",
        }).autoCreateTopics,
        false,
      );
      assert.equal(
        parse({ bucketURL: "dynamodb://us-east-1/files<>chunks", autoCreateTopics: "true" }).autoCreateTopics,
        true,
      );
    });
    it("seals eagerly (group commit) by default for mem:// and file://, by window on dynamodb://", () => {
      assert.equal(parse({ bucketURL: "mem://a" }).sealMode, "eager");
      assert.equal(parse({ bucketURL: "file:///tmp/a" }).sealMode, "eager");
      assert.equal(parse({ bucketURL: "dynamodb://us-east-1/files<>chunks" }).sealMode, "window");
      assert.equal(
        parse({
          ingestionBucketURL: "dynamodb://us-east-1/files<>chunks",
          compactionBucketURL: "s3://bucket-a?region=us-east-1",
        }).sealMode,
        "window",
      );
      assert.equal(parse({ bucketURL: "dynamodb://us-east-1/files<>chunks", sealMode: "eager" }).sealMode, "eager");
      assert.equal(parse({ bucketURL: "file:///tmp/a", sealMode: "window" }).sealMode, "window");
    });

    it("waits no idle gap by default on mem:// and file://, 2ms on dynamodb://", () => {
      assert.equal(parse({ bucketURL: "mem://a" }).sealIdleGapMs, 0);
      assert.equal(parse({ bucketURL: "dynamodb://us-east-1/files<>chunks" }).sealIdleGapMs, 2);
      assert.equal(parse({ bucketURL: "dynamodb://us-east-1/files<>chunks", sealIdleGap: "0" }).sealIdleGapMs, 0);
    });
  });

  describe("every flag and its environment twin", () => {
    // [flag, raw value, field of AgentConfig, expected value]
    const cases: Array<[string, string, keyof AgentConfig, unknown]> = [
      ["bucketURL", "file:///var/lib/warp", "bucketUrl", { kind: "file", path: "/var/lib/warp" }],
      ["batchTimeout", "50ms", "batchTimeoutMs", 50],
      ["sealMode", "window", "sealMode", "window"],
      ["sealIdleGap", "1500us", "sealIdleGapMs", 1.5],
      ["ingestionTTL", "10m", "ingestionTtlMs", 600_000],
      ["maxUncompactedAge", "5m", "maxUncompactedAgeMs", 300_000],
      ["compactionInterval", "500ms", "compactionIntervalMs", 500],
      ["compactionWorker", "false", "compactionWorker", false],
      ["compactionMinBytes", "16MiB", "compactionMinBytes", 16 * MiB],
      ["compactionMaxWait", "1m", "compactionMaxWaitMs", 60_000],
      ["metadataSnapshotEntries", "250", "metadataSnapshotEntries", 250],
      ["metadataIdlePollInterval", "5s", "metadataIdlePollMs", 5000],
      ["metadataLogEntryTTL", "720h", "metadataLogEntryTtlMs", 720 * 3_600_000],
      ["metadataLogEntryTTL", "0", "metadataLogEntryTtlMs", 0],
      ["retentionInterval", "1m", "retentionIntervalMs", 60_000],
      ["gcGracePeriod", "0", "gcGraceMs", 0],
      ["maxFileSize", "4MiB", "maxFileBytes", 4 * MiB],
      ["kafkaHost", "127.0.0.1", "kafkaHost", "127.0.0.1"],
      ["kafkaPort", "19092", "kafkaPort", 19092],
      ["httpPort", "0", "httpPort", 0],
      ["advertisedHost", "agent-0.warp.svc", "advertisedHost", "agent-0.warp.svc"],
      ["advertisedPort", "29092", "advertisedPort", 29092],
      ["availabilityZone", "us-east-1a", "availabilityZone", "us-east-1a"],
      ["autoCreateTopics", "false", "autoCreateTopics", false],
      ["defaultPartitions", "12", "defaultPartitions", 12],
      ["maxRequestSize", "1MiB", "maxFrameBytes", MiB],
      ["maxConnections", "500", "maxConnections", 500],
      ["maxInFlightRequests", "8", "maxInFlightRequests", 8],
      ["maxProduceBufferSize", "64MiB", "maxProduceBufferBytes", 64 * MiB],
      ["fetchCacheSize", "1GiB", "fetchCacheBytes", 1024 * MiB],
      ["fetchCacheSize", "0", "fetchCacheBytes", 0],
      ["fetchSessionCacheSlots", "50", "fetchSessionCacheSlots", 50],
      ["fetchSessionCacheSlots", "0", "fetchSessionCacheSlots", 0],
      ["gracefulShutdownDuration", "1m30s", "gracefulShutdownMs", 90_000],
      ["ingestionTTL", "2h", "ingestionTtlMs", 7_200_000],
      ["compactionInterval", "500ms", "compactionIntervalMs", 500],
      ["retentionInterval", "1m", "retentionIntervalMs", 60_000],
      ["gcGracePeriod", "0", "gcGraceMs", 0],
      ["createTables", "0", "createTables", false],
      ["transactions", "0", "transactions", false],
      ["sequencer", "false", "sequencer", false],
      ["sequencerLinger", "0", "sequencerLingerMs", 0],
      ["sequencerLinger", "25ms", "sequencerLingerMs", 25],
      ["windowAlign", "false", "windowAlign", false],
      ["clusterId", "my-cluster-1", "clusterId", "my-cluster-1"],
      ["nodeId", "7", "nodeId", 7],
      ["logLevel", "debug", "logLevel", "debug"],
      ["kafkaSecurityReloadInterval", "5s", "kafkaSecurityReloadIntervalMs", 5000],
      [
        "authorizationEnabled",
        "true",
        "authorization",
        { enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false },
      ],
    ];
    const splitCases: Array<[string, string, keyof AgentConfig, unknown]> = [
      [
        "ingestionBucketURL",
        "dynamodb://us-east-1/files<>chunks",
        "ingestionBucketUrl",
        { kind: "dynamodb", region: "us-east-1", filesTable: "files", chunksTable: "chunks" },
      ],
      [
        "compactionBucketURL",
        "s3://my-bucket?region=us-east-1",
        "compactionBucketUrl",
        { kind: "s3", bucket: "my-bucket", region: "us-east-1", forcePathStyle: false, prefix: "" },
      ],
    ];

    it("covers every flag in the table", () => {
      // TLS, SASL and authorization flags are valid only in combination: agent/test/security/config.test.ts
      // covers them.
      const combined = [
        "kafkaTLSCertFile",
        "kafkaTLSKeyFile",
        "kafkaTLSClientCAFile",
        "kafkaTLSPrincipalMappingRules",
        "kafkaSASLMechanisms",
        "kafkaSASLUsersFile",
        "superUsers",
        "allowEveryoneIfNoAclFound",
        "kafkaSASLOAuthJwksURL",
        "kafkaSASLOAuthJwksRefreshInterval",
        "kafkaSASLOAuthIssuer",
        "kafkaSASLOAuthAudience",
        "kafkaSASLOAuthPrincipalClaim",
        "kafkaSASLOAuthClockSkew",
        "kafkaConnectionsMaxReauth",
      ];
      const tested = new Set([...[...cases, ...splitCases].map(([name]) => name), ...combined]);
      assert.deepEqual([...tested].sort(), AGENT_FLAG_LIST.map((f) => f.name).sort());
    });

    for (const [name, raw, field, expected] of cases) {
      const spec = AGENT_FLAGS[name as keyof typeof AGENT_FLAGS];
      it(`-${name} ${raw} and ${spec.env}=${raw} set ${field}`, () => {
        const flags = name === "bucketURL" ? { [name]: raw } : { ...BASE, [name]: raw };
        assert.deepEqual(parse(flags)[field], expected);
        const env = name === "bucketURL" ? { [spec.env]: raw } : { [spec.env]: raw };
        const fromEnv = name === "bucketURL" ? parse({}, env) : parse(BASE, env);
        assert.deepEqual(fromEnv[field], expected);
      });
    }

    for (const [name, raw, field, expected] of splitCases) {
      const spec = AGENT_FLAGS[name as keyof typeof AGENT_FLAGS];
      const other = name === "ingestionBucketURL" ? splitCases[1]! : splitCases[0]!;
      it(`-${name} and ${spec.env} set ${field}`, () => {
        assert.deepEqual(parse({ [name]: raw, [other[0]]: other[1] })[field], expected);
        const otherEnv = AGENT_FLAGS[other[0] as keyof typeof AGENT_FLAGS].env;
        assert.deepEqual(parse({}, { [spec.env]: raw, [otherEnv]: other[1] })[field], expected);
      });
    }

    it("-maxUncompactedAge defaults to half of -ingestionTTL", () => {
      assert.equal(parse({ ...BASE, ingestionTTL: "10m" }).maxUncompactedAgeMs, 300_000);
      assert.equal(parse({ ...BASE, ingestionTTL: "10m", maxUncompactedAge: "0" }).maxUncompactedAgeMs, 0);
    });

    it("a flag wins over its environment variable", () => {
      assert.equal(parse({ ...BASE, kafkaPort: "1234" }, { WARP_KAFKA_PORT: "4321" }).kafkaPort, 1234);
    });

    it("an empty environment variable counts as unset", () => {
      assert.equal(parse(BASE, { WARP_KAFKA_PORT: "", WARP_AVAILABILITY_ZONE: "" }).kafkaPort, 9092);
      assert.equal(parse(BASE, { WARP_AVAILABILITY_ZONE: "" }).availabilityZone, null);
    });

    it("a bare boolean flag (true) is accepted for booleans", () => {
      assert.equal(parse({ ...BASE, createTables: true }).createTables, true);
      assert.equal(parse({ ...BASE, autoCreateTopics: false }).autoCreateTopics, false);
    });

    it("booleans accept true, false, 1 and 0", () => {
      for (const [raw, value] of [
        ["true", true],
        ["false", false],
        ["1", true],
        ["0", false],
        ["TRUE", true],
      ] as const) {
        assert.equal(parse({ ...BASE, createTables: raw }).createTables, value, raw);
      }
    });
  });

  describe("value syntax", () => {
    it("parses Go durations", () => {
      const table: Array<[string, number]> = [
        ["250ms", 250],
        ["0.05s", 50],
        ["1s", 1000],
        ["1m30s", 90_000],
        ["1h", 3_600_000],
        ["1500us", 1.5],
        ["0", 0],
        [".5s", 500],
      ];
      for (const [text, ms] of table) assert.equal(parseGoDuration(text), ms, text);
      for (const bad of ["", "250", "1x", "-1s", "ms", "1s ", "1 s"]) assert.throws(() => parseGoDuration(bad), bad);
    });

    it("parses byte sizes with optional units", () => {
      const table: Array<[string, number]> = [
        ["8388608", 8 * MiB],
        ["8MiB", 8 * MiB],
        ["8mib", 8 * MiB],
        ["512KiB", 512 * 1024],
        ["1GiB", 1024 * MiB],
        ["2MB", 2_000_000],
        ["1.5MiB", 1.5 * MiB],
        ["100B", 100],
      ];
      for (const [text, bytes] of table) assert.equal(parseByteSize(text), bytes, text);
      for (const bad of ["", "MiB", "8 parsecs", "-1", "1.3B"]) assert.throws(() => parseByteSize(bad), bad);
    });
  });

  describe("bad values name the flag (or variable) and the value", () => {
    const bad: Array<[string, string, string]> = [
      ["bucketURL", "bogus://x", "scheme"],
      ["bucketURL", "dynamodb://nowhere/files<>chunks", "region"],
      ["ingestionBucketURL", "dynamodb://us-east-1/onlyone", "tables"],
      ["compactionBucketURL", "s3://Bad_Bucket", "bucket"],
      ["batchTimeout", "10ms", "at least 25ms"],
      ["batchTimeout", "250", "missing unit"],
      ["batchTimeout", "soon", "not a duration"],
      ["sealMode", "fast", "expected window or eager"],
      ["sealMode", "Eager", "unknown seal mode"],
      ["sealIdleGap", "2", "missing unit"],
      ["sealIdleGap", "2s", "at most 1s"],
      ["maxFileSize", "8 parsecs", "not a size"],
      ["maxFileSize", "10", "at least 1KiB"],
      ["maxFileSize", "2GiB", "at most 1GiB"],
      ["kafkaHost", "http://x", "host"],
      ["kafkaPort", "65536", "out of range"],
      ["kafkaPort", "ninety", "integer"],
      ["httpPort", "-1", "out of range"],
      ["advertisedHost", "a b", "host"],
      ["advertisedPort", "0", "out of range"],
      ["availabilityZone", "us east", "spaces"],
      ["autoCreateTopics", "yes", "true, false, 1 or 0"],
      ["defaultPartitions", "0", "out of range"],
      ["maxRequestSize", "1KiB", "at least 64KiB"],
      ["maxConnections", "1.5", "integer"],
      ["maxInFlightRequests", "0", "1"],
      ["maxProduceBufferSize", "10KiB", "MiB"],
      ["fetchCacheSize", "65GiB", "at most 64GiB"],
      ["fetchCacheSize", "lots", "not a size"],
      ["fetchSessionCacheSlots", "-1", "out of range; expected 0 to 100000"],
      ["fetchSessionCacheSlots", "100001", "out of range; expected 0 to 100000"],
      ["fetchSessionCacheSlots", "1k", "expected an integer from 0 to 100000"],
      ["gracefulShutdownDuration", "forever", "not a duration"],
      ["ingestionTTL", "5s", "at least 10s"],
      ["kafkaSecurityReloadInterval", "10ms", "at least 100ms"],
      ["compactionInterval", "10ms", "at least 100ms"],
      ["compactionMinBytes", "2GiB", "at most"],
      ["compactionMaxWait", "soon", "not a duration"],
      ["metadataSnapshotEntries", "99", "out of range; expected 100 to 10000000"],
      ["metadataIdlePollInterval", "10ms", "at least 50ms"],
      ["metadataLogEntryTTL", "1h", "must be 0 (entries never expire) or at least 24h"],
      ["metadataLogEntryTTL", "9000h", "at most"],
      ["metadataSnapshotEntries", "2k", "expected an integer from 100 to 10000000"],
      ["retentionInterval", "2d", "not a duration"],
      ["gcGracePeriod", "-1s", "not a duration"],
      ["createTables", "maybe", "true, false, 1 or 0"],
      ["authorizationEnabled", "maybe", "true, false, 1 or 0"],
      ["clusterId", "a b", "spaces"],
      ["nodeId", "-3", "out of range"],
      ["logLevel", "loud", "error, warn, info"],
    ];
    for (const [name, raw, reason] of bad) {
      const spec = AGENT_FLAGS[name as keyof typeof AGENT_FLAGS];
      const flags = (value: string): Record<string, string> => {
        if (name === "ingestionBucketURL") return { ingestionBucketURL: value, compactionBucketURL: "s3://ok-bucket" };
        if (name === "compactionBucketURL")
          return { ingestionBucketURL: "dynamodb://us-east-1/files<>chunks", compactionBucketURL: value };
        if (name === "bucketURL") return { bucketURL: value };
        return { ...BASE, [name]: value };
      };
      it(`-${name} ${raw} (${reason})`, () => {
        assertConfigError(() => parse(flags(raw)), `-${name}`, JSON.stringify(raw), reason);
      });
      if (name !== "ingestionBucketURL" && name !== "compactionBucketURL") {
        it(`${spec.env}=${raw} (${reason})`, () => {
          const flagsWithoutIt = name === "bucketURL" ? {} : BASE;
          assertConfigError(() => parse(flagsWithoutIt, { [spec.env]: raw }), spec.env, JSON.stringify(raw), reason);
        });
      }
    }

    it("a bare boolean flag is refused for a flag that needs a value", () => {
      assertConfigError(() => parse({ ...BASE, kafkaPort: true }), "-kafkaPort", "needs a value");
    });
  });

  describe("store forms", () => {
    it("needs a store, naming both forms", () => {
      assertConfigError(
        () => parse({}),
        "-bucketURL",
        "-ingestionBucketURL",
        "-compactionBucketURL",
        "WARP_BUCKET_URL",
      );
    });
    it("refuses -bucketURL together with the split form", () => {
      assertConfigError(
        () =>
          parse({
            bucketURL: "mem://a",
            ingestionBucketURL: "dynamodb://us-east-1/files1<>chunks1",
            compactionBucketURL: "s3://bucket-b",
          }),
        "either -bucketURL",
      );
    });
    it("needs -ingestionBucketURL and -compactionBucketURL together", () => {
      assertConfigError(
        () => parse({ ingestionBucketURL: "dynamodb://us-east-1/files<>chunks" }),
        "-compactionBucketURL",
      );
      assertConfigError(() => parse({ compactionBucketURL: "s3://bucket-b" }), "-ingestionBucketURL");
    });
    it("refuses s3:// as the only store or as the ingestion store, and dynamodb:// for compaction", () => {
      assertConfigError(() => parse({ bucketURL: "s3://bucket-b" }), "-bucketURL", "s3://");
      assertConfigError(
        () => parse({ ingestionBucketURL: "s3://bucket-b", compactionBucketURL: "s3://bucket-c" }),
        "-ingestionBucketURL",
      );
      assertConfigError(
        () =>
          parse({
            ingestionBucketURL: "dynamodb://us-east-1/files1<>chunks1",
            compactionBucketURL: "dynamodb://us-east-1/files2<>chunks2",
          }),
        "-compactionBucketURL",
      );
    });
    it("accepts the split form with endpoint overrides", () => {
      const c = parse({
        ingestionBucketURL: "dynamodb://us-east-1/files<>chunks?endpoint=http://127.0.0.1:8000",
        compactionBucketURL: "s3://bucket-b?region=us-east-1&endpoint=http://127.0.0.1:9000&s3ForcePathStyle=true",
      });
      assert.deepEqual(c.ingestionBucketUrl, {
        kind: "dynamodb",
        region: "us-east-1",
        filesTable: "files",
        chunksTable: "chunks",
        endpoint: "http://127.0.0.1:8000",
      });
      assert.equal(c.compactionBucketUrl?.kind, "s3");
      assert.equal(c.bucketUrl, undefined);
    });
  });

  it("stops on an unknown flag, naming it", () => {
    assertConfigError(() => parse({ ...BASE, bucketUrl: "mem://x" }), "unknown flag -bucketUrl");
  });

  describe("command-line spellings (normaliseFlagArgs)", () => {
    const spellings: Array<[string, string[]]> = [
      ["Go -name value", ["-bucketURL", "mem://a", "-batchTimeout", "50ms"]],
      ["Go -name=value", ["-bucketURL=mem://a", "-batchTimeout=50ms"]],
      ["GNU --name value", ["--bucketURL", "mem://a", "--batchTimeout", "50ms"]],
      ["GNU --name=value", ["--bucketURL=mem://a", "--batchTimeout=50ms"]],
      ["mixed", ["-bucketURL", "mem://a", "--batchTimeout=50ms"]],
    ];
    for (const [label, args] of spellings) {
      it(label, () => {
        assert.deepEqual(normaliseFlagArgs(args, AGENT_FLAG_LIST), ["--bucketURL=mem://a", "--batchTimeout=50ms"]);
      });
    }

    it("keeps = inside values and values that start with a dash", () => {
      assert.deepEqual(
        normaliseFlagArgs(["-compactionBucketURL=s3://b?region=us-east-1&prefix=a=b"], AGENT_FLAG_LIST),
        ["--compactionBucketURL=s3://b?region=us-east-1&prefix=a=b"],
      );
      assert.deepEqual(normaliseFlagArgs(["-clusterId", "-abc"], AGENT_FLAG_LIST), ["--clusterId=-abc"]);
    });

    it("takes booleans bare, with =value, or followed by true/false/1/0", () => {
      assert.deepEqual(normaliseFlagArgs(["-createTables"], AGENT_FLAG_LIST), ["--createTables=true"]);
      assert.deepEqual(normaliseFlagArgs(["-createTables=false"], AGENT_FLAG_LIST), ["--createTables=false"]);
      assert.deepEqual(normaliseFlagArgs(["--autoCreateTopics", "0", "-kafkaPort", "1"], AGENT_FLAG_LIST), [
        "--autoCreateTopics=0",
        "--kafkaPort=1",
      ]);
      assert.deepEqual(normaliseFlagArgs(["-createTables", "-kafkaPort", "1"], AGENT_FLAG_LIST), [
        "--createTables=true",
        "--kafkaPort=1",
      ]);
    });

    it("maps -h, -help and --help to --help", () => {
      assert.deepEqual(normaliseFlagArgs(["-h"], AGENT_FLAG_LIST), ["--help"]);
      assert.deepEqual(normaliseFlagArgs(["-help"], AGENT_FLAG_LIST), ["--help"]);
      assert.deepEqual(normaliseFlagArgs(["--help"], AGENT_FLAG_LIST), ["--help"]);
    });

    it("stops on an unknown flag in any spelling, naming it", () => {
      for (const args of [["-bucketUrl", "x"], ["--nope=1"], ["-x"], ["-batch-timeout", "1s"]]) {
        assert.throws(
          () => normaliseFlagArgs(args, AGENT_FLAG_LIST),
          (err: unknown) => err instanceof UsageError && err.message === `unknown flag ${args[0]!.split("=")[0]}`,
          args.join(" "),
        );
      }
    });

    it("stops on a flag missing its value", () => {
      assert.throws(() => normaliseFlagArgs(["-kafkaPort"], AGENT_FLAG_LIST), /flag -kafkaPort needs a value/);
    });
  });
});
