import assert from "node:assert/strict";
import { parseBucketUrl } from "../../../common/bucket-url.js";
import { InvalidSpecError, effectiveZones, resolveSpec } from "../../src/api/resolve.js";
import type { KafkaOAuthBearerSpec, KafkaSaslSpec, WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import { desiredDeployment } from "../../src/desired/deployment.js";
import { parseAgentConfig } from "../../../agent/src/config/parse.js";
import { deploymentName, dnsName } from "../../src/desired/labels.js";
import {
  bootstrapAddress,
  bootstrapServiceName,
  desiredBootstrapService,
  desiredHeadlessService,
  desiredPodDisruptionBudget,
  desiredServiceAccount,
  headlessServiceName,
} from "../../src/desired/services.js";

function agent(spec: Partial<WarpAgentSpec> = {}, name = "wa"): WarpAgent {
  return {
    apiVersion: "warpagent.dev/v1alpha1",
    kind: "WarpAgent",
    metadata: { name, namespace: "ns1", uid: "uid-1", generation: 1 },
    spec: {
      region: "us-east-1",
      tables: { files: "files-t", chunks: "chunks-t" },
      bucket: { name: "my-bucket" },
      ...spec,
    },
  };
}

function argMap(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 1; i < args.length; i += 2) m.set(args[i]!, args[i + 1]!);
  return m;
}

describe("desiredDeployment", () => {
  const cases: Array<{
    name: string;
    spec: Partial<WarpAgentSpec>;
    zone: string;
    check: (d: ReturnType<typeof desiredDeployment>) => void;
  }> = [
    {
      name: "defaults: agent flags, zone, image, one replica",
      spec: {},
      zone: "us-east-1a",
      check: (d) => {
        const c = d.spec!.template.spec!.containers[0]!;
        assert.deepEqual(c.command, ["warp"]);
        assert.equal(c.args![0], "agent");
        const a = argMap(c.args!);
        assert.equal(a.get("-batchTimeout"), "50ms");
        assert.equal(a.get("-kafkaPort"), "9092");
        assert.equal(a.get("-httpPort"), "8080");
        assert.equal(a.get("-availabilityZone"), "us-east-1a");
        assert.ok(c.args!.includes("-createTables=false"), "the operator alone creates and deletes tables");
        assert.deepEqual(parseBucketUrl(a.get("-ingestionBucketURL")!), {
          kind: "dynamodb",
          region: "us-east-1",
          filesTable: "files-t",
          chunksTable: "chunks-t",
        });
        assert.deepEqual(parseBucketUrl(a.get("-compactionBucketURL")!), {
          kind: "s3",
          bucket: "my-bucket",
          region: "us-east-1",
          forcePathStyle: false,
          prefix: "",
        });
        assert.equal(c.image, "ghcr.io/warp-agent/warp:0.1.0");
        assert.equal(d.spec!.replicas, 1);
        assert.equal(d.metadata!.name, deploymentName("wa", "us-east-1a"));
        assert.match(d.metadata!.name, /^wa-us-east-1a-[0-9a-f]{6}$/);
      },
    },
    {
      name: "node affinity pins pods to the zone",
      spec: {},
      zone: "eu-west-1b",
      check: (d) => {
        const terms =
          d.spec!.template.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!
            .nodeSelectorTerms;
        assert.deepEqual(terms, [
          { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["eu-west-1b"] }] },
        ]);
      },
    },
    {
      name: "env: advertised host from the pod IP, region, endpoint overrides, extra env after ours",
      spec: {
        endpoints: { dynamodb: "http://ddb:8000", s3: "http://s3:9000" },
        env: [
          { name: "FOO", value: "bar" },
          { name: "AWS_REGION", value: "ignored" },
        ],
      },
      zone: "a",
      check: (d) => {
        const env = d.spec!.template.spec!.containers[0]!.env!;
        assert.deepEqual(env, [
          { name: "WARP_ADVERTISED_HOST", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "AWS_REGION", value: "us-east-1" },
          { name: "AWS_ENDPOINT_URL_DYNAMODB", value: "http://ddb:8000" },
          { name: "AWS_ENDPOINT_URL_S3", value: "http://s3:9000" },
          { name: "FOO", value: "bar" },
        ]);
        const a = argMap(d.spec!.template.spec!.containers[0]!.args!);
        assert.equal(
          (parseBucketUrl(a.get("-compactionBucketURL")!) as { forcePathStyle: boolean }).forcePathStyle,
          true,
          "path-style with an S3 endpoint override",
        );
      },
    },
    {
      name: "probes on the agent's health endpoints, named ports",
      spec: {},
      zone: "a",
      check: (d) => {
        const c = d.spec!.template.spec!.containers[0]!;
        assert.deepEqual(c.livenessProbe!.httpGet, { path: "/healthz", port: "http" });
        assert.deepEqual(c.readinessProbe!.httpGet, { path: "/readyz", port: "http" });
        assert.deepEqual(
          c.ports!.map((p) => [p.name, p.containerPort]),
          [
            ["kafka", 9092],
            ["http", 8080],
          ],
        );
      },
    },
    {
      name: "per-zone replicas, batch timeout, image, resources, service account, prefix",
      spec: {
        batchTimeout: "100ms",
        image: "example/warp:1",
        imagePullPolicy: "IfNotPresent",
        resources: { requests: { cpu: "500m", memory: 1073741824 } },
        serviceAccountName: "irsa",
        bucket: { name: "my-bucket", prefix: "warp" },
      },
      zone: "a",
      check: (d) => {
        const c = d.spec!.template.spec!.containers[0]!;
        assert.equal(argMap(c.args!).get("-batchTimeout"), "100ms");
        assert.equal(c.image, "example/warp:1");
        assert.equal(c.imagePullPolicy, "IfNotPresent");
        assert.deepEqual(c.resources, { requests: { cpu: "500m", memory: "1073741824" } });
        assert.equal(d.spec!.template.spec!.serviceAccountName, "irsa");
        assert.equal(
          (parseBucketUrl(argMap(c.args!).get("-compactionBucketURL")!) as { prefix: string }).prefix,
          "warp/",
        );
      },
    },
    {
      name: "owner reference to the WarpAgent, selector includes the zone, rolling update without unavailability",
      spec: {},
      zone: "a",
      check: (d) => {
        assert.deepEqual(d.metadata!.ownerReferences, [
          {
            apiVersion: "warpagent.dev/v1alpha1",
            kind: "WarpAgent",
            name: "wa",
            uid: "uid-1",
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
        assert.equal(d.spec!.selector.matchLabels!["warpagent.dev/zone"], "a");
        for (const [k, v] of Object.entries(d.spec!.selector.matchLabels!))
          assert.equal(d.spec!.template.metadata!.labels![k], v);
        assert.deepEqual(d.spec!.strategy, {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        });
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = agent(c.spec);
      const spec = resolveSpec(a);
      const zone = effectiveZones(spec, [c.zone]).find((z) => z.name === c.zone)!;
      c.check(desiredDeployment(a, spec, zone.name, zone.replicas));
    });
  }

  it("runs the agent non-root, unprivileged, on a read-only root filesystem with a scratch /tmp", () => {
    const d = desiredDeployment(agent(), resolveSpec(agent()), "zone-a", 1);
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.notEqual(pod.securityContext?.runAsUser, 0);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ["ALL"]);
    assert.deepEqual(c.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    assert.ok(pod.volumes?.some((v) => v.name === "tmp" && v.emptyDir));
  });

  it("mounts the Kafka listener's TLS and SASL Secrets and passes their paths as flags", () => {
    const a = agent({
      kafka: {
        tls: { secretName: "kafka-tls", requireClientCert: true },
        sasl: { mechanisms: ["SCRAM-SHA-512", "PLAIN"], usersSecret: { name: "kafka-users" } },
      },
    });
    const d = desiredDeployment(a, resolveSpec(a), "zone-a", 1);
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    const flag = (name: string) => c.args![c.args!.indexOf(name) + 1];
    assert.equal(flag("-kafkaTLSCertFile"), "/etc/warp/tls/tls.crt");
    assert.equal(flag("-kafkaTLSKeyFile"), "/etc/warp/tls/tls.key");
    assert.equal(flag("-kafkaTLSClientCAFile"), "/etc/warp/tls/ca.crt");
    assert.equal(flag("-kafkaSASLMechanisms"), "SCRAM-SHA-512,PLAIN");
    assert.equal(flag("-kafkaSASLUsersFile"), "/etc/warp/sasl/users");
    assert.deepEqual(pod.volumes?.find((v) => v.name === "kafka-sasl-users")?.secret?.items, [
      { key: "users", path: "users" },
    ]);
    assert.equal(pod.volumes?.find((v) => v.name === "kafka-tls")?.secret?.secretName, "kafka-tls");
    assert.deepEqual(
      c.volumeMounts?.map((m) => [m.mountPath, m.readOnly ?? false]),
      [
        ["/tmp", false],
        ["/etc/warp/tls", true],
        ["/etc/warp/sasl", true],
      ],
    );
    // Without spec.kafka: plaintext, no Secret mounted, no flag.
    const plain = desiredDeployment(agent(), resolveSpec(agent()), "zone-a", 1).spec!.template.spec!;
    assert.ok(!plain.containers[0]!.args!.some((x) => x.startsWith("-kafkaTLS") || x.startsWith("-kafkaSASL")));
    assert.equal(plain.volumes?.length, 1);
    // Server-side TLS only: no client CA flag.
    const tlsOnly = agent({ kafka: { tls: { secretName: "kafka-tls" } } });
    assert.ok(
      !desiredDeployment(tlsOnly, resolveSpec(tlsOnly), "z", 1).spec!.template.spec!.containers[0]!.args!.includes(
        "-kafkaTLSClientCAFile",
      ),
    );
  });

  it("passes authorization and principal mapping as agent flags the agent accepts", () => {
    const a = agent({
      kafka: {
        tls: { secretName: "kafka-tls", requireClientCert: true },
        sasl: { mechanisms: ["SCRAM-SHA-512"], usersSecret: { name: "kafka-users" } },
        authorization: {
          enabled: true,
          superUsers: ["User:admin", "User:CN=ops,O=Example"],
          allowEveryoneIfNoAclFound: true,
          principalMappingRules: ["RULE:^CN=([^,]+),OU=apps,O=Example$/$1/L", "DEFAULT"],
        },
      },
    });
    const args = desiredDeployment(a, resolveSpec(a), "zone-a", 1).spec!.template.spec!.containers[0]!.args!;
    const flag = (name: string) => args[args.indexOf(name) + 1];
    assert.ok(args.includes("-authorizationEnabled=true"));
    assert.equal(flag("-superUsers"), "User:admin;User:CN=ops,O=Example");
    assert.ok(args.includes("-allowEveryoneIfNoAclFound=true"));
    assert.equal(flag("-kafkaTLSPrincipalMappingRules"), "RULE:^CN=([^,]+),OU=apps,O=Example$/$1/L,DEFAULT");
    // The agent's own parser takes them as given.
    const flags: Record<string, string> = {};
    for (let i = 1; i < args.length; i++) {
      const arg = args[i]!.slice(1);
      const eq = arg.indexOf("=");
      if (eq >= 0) flags[arg.slice(0, eq)] = arg.slice(eq + 1);
      else flags[arg] = args[++i]!;
    }
    const config = parseAgentConfig(flags, {});
    assert.deepEqual(config.authorization, {
      enabled: true,
      superUsers: ["User:admin", "User:CN=ops,O=Example"],
      allowEveryoneIfNoAclFound: true,
    });
    assert.equal(config.kafkaTLSPrincipalMapper?.name("CN=Orders,OU=apps,O=Example"), "orders");
    assert.equal(config.kafkaTLSPrincipalMapper?.name("CN=x,O=Other"), "CN=x,O=Other");

    // Off (the default, or enabled: false with settings kept): no authorization flag at all.
    for (const off of [
      agent(),
      agent({
        kafka: { authorization: { enabled: false, superUsers: ["User:admin"], allowEveryoneIfNoAclFound: true } },
      }),
    ]) {
      const offArgs = desiredDeployment(off, resolveSpec(off), "z", 1).spec!.template.spec!.containers[0]!.args!;
      assert.ok(
        !offArgs.some((x) => /authorization|superUsers|allowEveryone|PrincipalMapping/.test(x)),
        offArgs.join(" "),
      );
    }
  });

  /** The agent's own reading of a container's args (`agent -flag value -flag=value ...`). */
  function agentConfig(args: readonly string[]) {
    const flags: Record<string, string> = {};
    for (let i = 1; i < args.length; i++) {
      const arg = args[i]!.slice(1);
      const eq = arg.indexOf("=");
      if (eq >= 0) flags[arg.slice(0, eq)] = arg.slice(eq + 1);
      else flags[arg] = args[++i]!;
    }
    return parseAgentConfig(flags, {});
  }

  const oauthAgent = (oauthbearer: Partial<KafkaOAuthBearerSpec> = {}, sasl: Partial<KafkaSaslSpec> = {}) =>
    agent({
      kafka: {
        sasl: {
          mechanisms: ["OAUTHBEARER"],
          oauthbearer: { jwks: { configMapKeyRef: { name: "idp-jwks" } }, ...oauthbearer },
          ...sasl,
        },
      },
    });

  it("OAUTHBEARER with a JWKS ConfigMap: mounts the key read-only and passes flags the agent accepts", () => {
    const a = oauthAgent(
      {
        jwks: { configMapKeyRef: { name: "idp-jwks", key: "keys.json" } },
        issuer: "https://idp.example.com/realms/kafka",
        audience: ["warp-kafka", "api://warp"],
        principalClaim: "client_id",
        clockSkew: "1m",
        jwksRefreshInterval: "15m",
      },
      { connectionsMaxReauth: "1h30m" },
    );
    const pod = desiredDeployment(a, resolveSpec(a), "zone-a", 1).spec!.template.spec!;
    const c = pod.containers[0]!;
    const flag = (name: string) => (c.args!.includes(name) ? c.args![c.args!.indexOf(name) + 1] : undefined);
    assert.equal(flag("-kafkaSASLMechanisms"), "OAUTHBEARER");
    assert.equal(flag("-kafkaSASLOAuthJwksURL"), "file:///etc/warp/oauth/jwks.json");
    assert.equal(flag("-kafkaSASLOAuthIssuer"), "https://idp.example.com/realms/kafka");
    assert.equal(flag("-kafkaSASLOAuthAudience"), "warp-kafka,api://warp");
    assert.equal(flag("-kafkaSASLOAuthPrincipalClaim"), "client_id");
    assert.equal(flag("-kafkaSASLOAuthClockSkew"), "1m");
    assert.equal(flag("-kafkaSASLOAuthJwksRefreshInterval"), "15m");
    assert.equal(flag("-kafkaConnectionsMaxReauth"), "1h30m");
    // No users file: the agent refuses one that no enabled mechanism reads.
    assert.equal(flag("-kafkaSASLUsersFile"), undefined);
    assert.deepEqual(
      pod.volumes?.find((v) => v.name === "kafka-oauth-jwks"),
      {
        name: "kafka-oauth-jwks",
        configMap: { name: "idp-jwks", defaultMode: 0o440, items: [{ key: "keys.json", path: "jwks.json" }] },
      },
    );
    // The directory, not a subPath: a changed ConfigMap reaches the running pods.
    assert.deepEqual(
      c.volumeMounts?.find((m) => m.name === "kafka-oauth-jwks"),
      { name: "kafka-oauth-jwks", mountPath: "/etc/warp/oauth", readOnly: true },
    );
    assert.ok(!pod.volumes?.some((v) => v.name === "kafka-sasl-users"));

    const config = agentConfig(c.args!);
    assert.deepEqual(config.kafkaSASL, {
      mechanisms: ["OAUTHBEARER"],
      oauth: {
        jwksUrl: "file:///etc/warp/oauth/jwks.json",
        jwksRefreshIntervalMs: 15 * 60_000,
        issuer: "https://idp.example.com/realms/kafka",
        audience: ["warp-kafka", "api://warp"],
        principalClaim: "client_id",
        clockSkewMs: 60_000,
      },
    });
    assert.equal(config.kafkaConnectionsMaxReauthMs, 90 * 60_000);
  });

  it("OAUTHBEARER beside SCRAM: a JWKS URL is passed as given, a JWKS Secret is mounted; defaults are the agent's", () => {
    const a = oauthAgent(
      { jwks: { url: "https://idp.example.com/certs" } },
      { mechanisms: ["SCRAM-SHA-512", "OAUTHBEARER"], usersSecret: { name: "kafka-users" } },
    );
    const pod = desiredDeployment(a, resolveSpec(a), "zone-a", 1).spec!.template.spec!;
    const args = pod.containers[0]!.args!;
    const flag = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(flag("-kafkaSASLMechanisms"), "SCRAM-SHA-512,OAUTHBEARER");
    assert.equal(flag("-kafkaSASLUsersFile"), "/etc/warp/sasl/users");
    assert.equal(flag("-kafkaSASLOAuthJwksURL"), "https://idp.example.com/certs");
    assert.ok(!args.includes("-kafkaSASLOAuthIssuer") && !args.includes("-kafkaSASLOAuthAudience"));
    assert.ok(!args.includes("-kafkaConnectionsMaxReauth"));
    assert.deepEqual(
      pod.volumes!.map((v) => v.name),
      ["tmp", "kafka-sasl-users"],
    );
    const config = agentConfig(args);
    assert.deepEqual(config.kafkaSASL?.oauth, {
      jwksUrl: "https://idp.example.com/certs",
      jwksRefreshIntervalMs: 3_600_000,
      audience: [],
      principalClaim: "sub",
      clockSkewMs: 30_000,
    });
    assert.equal(config.kafkaSASL?.usersFile, "/etc/warp/sasl/users");
    assert.equal(config.kafkaConnectionsMaxReauthMs, 0);

    const fromSecret = oauthAgent({ jwks: { secretKeyRef: { name: "idp-jwks-secret" } } });
    const secretPod = desiredDeployment(fromSecret, resolveSpec(fromSecret), "z", 1).spec!.template.spec!;
    assert.deepEqual(secretPod.volumes?.find((v) => v.name === "kafka-oauth-jwks")?.secret, {
      secretName: "idp-jwks-secret",
      defaultMode: 0o440,
      items: [{ key: "jwks.json", path: "jwks.json" }],
    });
    assert.equal(
      agentConfig(secretPod.containers[0]!.args!).kafkaSASL?.oauth?.jwksUrl,
      "file:///etc/warp/oauth/jwks.json",
    );
  });

  it("re-authentication with SCRAM only: -kafkaConnectionsMaxReauth and no OAUTHBEARER flag", () => {
    const a = agent({
      kafka: { sasl: { mechanisms: ["SCRAM-SHA-256"], usersSecret: { name: "u" }, connectionsMaxReauth: "10m" } },
    });
    const args = desiredDeployment(a, resolveSpec(a), "z", 1).spec!.template.spec!.containers[0]!.args!;
    assert.ok(!args.some((x) => x.startsWith("-kafkaSASLOAuth")), args.join(" "));
    assert.equal(agentConfig(args).kafkaConnectionsMaxReauthMs, 600_000);
  });

  it("changing any OAUTHBEARER or re-authentication setting changes the pod template (the agents roll)", () => {
    const template = (a: WarpAgent) => desiredDeployment(a, resolveSpec(a), "zone-a", 2).spec!.template;
    const base = template(oauthAgent());
    assert.deepEqual(template(oauthAgent()), base);
    const changes: Array<[string, WarpAgent]> = [
      ["issuer", oauthAgent({ issuer: "https://idp.example.com/realms/kafka" })],
      ["audience", oauthAgent({ audience: ["warp-kafka"] })],
      ["principalClaim", oauthAgent({ principalClaim: "azp" })],
      ["clockSkew", oauthAgent({ clockSkew: "45s" })],
      ["jwksRefreshInterval", oauthAgent({ jwksRefreshInterval: "30m" })],
      ["jwks ConfigMap", oauthAgent({ jwks: { configMapKeyRef: { name: "other-jwks" } } })],
      ["jwks key", oauthAgent({ jwks: { configMapKeyRef: { name: "idp-jwks", key: "v2.json" } } })],
      ["jwks from a Secret", oauthAgent({ jwks: { secretKeyRef: { name: "idp-jwks" } } })],
      ["jwks URL", oauthAgent({ jwks: { url: "https://idp.example.com/certs" } })],
      ["connectionsMaxReauth", oauthAgent({}, { connectionsMaxReauth: "1h" })],
    ];
    for (const [what, a] of changes) assert.notDeepEqual(template(a), base, what);
  });

  it("grace period: the agent's drain time plus a margin; default requests; spread over a zone's nodes", () => {
    const pod = (s: Partial<WarpAgentSpec>) =>
      desiredDeployment(agent(s), resolveSpec(agent(s)), "z", 3).spec!.template.spec!;
    assert.equal(pod({}).terminationGracePeriodSeconds, 45);
    assert.equal(
      pod({ env: [{ name: "WARP_GRACEFUL_SHUTDOWN_DURATION", value: "2m" }] }).terminationGracePeriodSeconds,
      135,
    );
    assert.deepEqual(pod({}).containers[0]!.resources, { requests: { cpu: "500m", memory: "512Mi" } });
    assert.deepEqual(pod({ resources: { limits: { memory: "1Gi" } } }).containers[0]!.resources, {
      limits: { memory: "1Gi" },
    });
    const spread = pod({}).topologySpreadConstraints!;
    assert.equal(spread.length, 1);
    assert.equal(spread[0]!.topologyKey, "kubernetes.io/hostname");
    assert.equal(spread[0]!.whenUnsatisfiable, "ScheduleAnyway");
    assert.equal(spread[0]!.labelSelector!.matchLabels!["warpagent.dev/zone"], "z");
  });

  it("is pure: the same input gives the same output", () => {
    const a = agent();
    assert.deepEqual(desiredDeployment(a, resolveSpec(a), "z", 2), desiredDeployment(a, resolveSpec(a), "z", 2));
  });
});

describe("effectiveZones", () => {
  it("uses spec zones with per-zone replicas, else discovered zones at replicasPerZone, sorted", () => {
    const explicit = resolveSpec(agent({ zones: [{ name: "c", replicas: 3 }, { name: "a" }], replicasPerZone: 2 }));
    assert.deepEqual(effectiveZones(explicit, ["x"]), [
      { name: "a", replicas: 2 },
      { name: "c", replicas: 3 },
    ]);
    const discovered = resolveSpec(agent({ replicasPerZone: 2 }));
    assert.deepEqual(effectiveZones(discovered, ["b", "a", "b"]), [
      { name: "a", replicas: 2 },
      { name: "b", replicas: 2 },
    ]);
  });
});

describe("resolveSpec", () => {
  const bad: Array<[string, Partial<WarpAgentSpec>, string]> = [
    ["batch timeout below 25ms", { batchTimeout: "10ms" }, "spec.batchTimeout"],
    ["empty table name", { tables: { files: "", chunks: "c-table" } }, "spec.tables.files"],
    ["same table twice", { tables: { files: "same", chunks: "same" } }, "spec.tables.chunks"],
    [
      "provisioned without capacities",
      { tables: { files: "aaa", chunks: "bbb", billingMode: "Provisioned" } },
      "spec.tables.billingMode",
    ],
    [
      "SASL without mechanisms",
      { kafka: { sasl: { mechanisms: [], usersSecret: { name: "u" } } } },
      "spec.kafka.sasl.mechanisms",
    ],
    [
      "an unknown SASL mechanism",
      { kafka: { sasl: { mechanisms: ["GSSAPI" as "PLAIN"], usersSecret: { name: "u" } } } },
      "spec.kafka.sasl.mechanisms",
    ],
    [
      "SASL without a users Secret",
      { kafka: { sasl: { mechanisms: ["PLAIN"], usersSecret: { name: "" } } } },
      "spec.kafka.sasl.usersSecret",
    ],
    ["PLAIN without usersSecret", { kafka: { sasl: { mechanisms: ["PLAIN"] } } }, "spec.kafka.sasl.usersSecret"],
    [
      "a users Secret nothing reads (OAUTHBEARER only)",
      {
        kafka: {
          sasl: {
            mechanisms: ["OAUTHBEARER"],
            usersSecret: { name: "u" },
            oauthbearer: { jwks: { url: "https://i/k" } },
          },
        },
      },
      "spec.kafka.sasl.usersSecret",
    ],
    [
      "OAUTHBEARER without its settings",
      { kafka: { sasl: { mechanisms: ["OAUTHBEARER"] } } },
      "spec.kafka.sasl.oauthbearer",
    ],
    [
      "OAUTHBEARER settings without OAUTHBEARER",
      {
        kafka: {
          sasl: { mechanisms: ["PLAIN"], usersSecret: { name: "u" }, oauthbearer: { jwks: { url: "https://i/k" } } },
        },
      },
      "spec.kafka.sasl.oauthbearer",
    ],
    [
      "a JWKS from both a URL and a Secret",
      {
        kafka: {
          sasl: {
            mechanisms: ["OAUTHBEARER"],
            oauthbearer: { jwks: { url: "https://i/k", secretKeyRef: { name: "jwks" } } },
          },
        },
      },
      "spec.kafka.sasl.oauthbearer.jwks",
    ],
    [
      "a file:// JWKS URL",
      { kafka: { sasl: { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { url: "file:///jwks.json" } } } } },
      "spec.kafka.sasl.oauthbearer.jwks.url",
    ],
    [
      "a clock skew above 10m",
      {
        kafka: {
          sasl: { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { url: "https://i/k" }, clockSkew: "11m" } },
        },
      },
      "spec.kafka.sasl.oauthbearer.clockSkew",
    ],
    [
      "a JWKS refresh interval that is no duration",
      {
        kafka: {
          sasl: {
            mechanisms: ["OAUTHBEARER"],
            oauthbearer: { jwks: { configMapKeyRef: { name: "j" } }, jwksRefreshInterval: "1d" },
          },
        },
      },
      "spec.kafka.sasl.oauthbearer.jwksRefreshInterval",
    ],
    [
      "an audience with a comma",
      {
        kafka: {
          sasl: { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { url: "https://i/k" }, audience: ["a,b"] } },
        },
      },
      "spec.kafka.sasl.oauthbearer.audience[]",
    ],
    [
      "a re-authentication interval below 1s",
      { kafka: { sasl: { mechanisms: ["PLAIN"], usersSecret: { name: "u" }, connectionsMaxReauth: "500ms" } } },
      "spec.kafka.sasl.connectionsMaxReauth",
    ],
    [
      "authorization without a super user (nobody could create the first ACL)",
      { kafka: { authorization: { enabled: true } } },
      "spec.kafka.authorization.superUsers",
    ],
    [
      "a super user that is not a User principal",
      { kafka: { authorization: { enabled: true, superUsers: ["admin"] } } },
      "spec.kafka.authorization.superUsers[]",
    ],
    [
      "User:* as a super user",
      { kafka: { authorization: { enabled: true, superUsers: ["User:*"] } } },
      "spec.kafka.authorization.superUsers[]",
    ],
    [
      "principal mapping rules without mutual TLS",
      { kafka: { tls: { secretName: "t" }, authorization: { principalMappingRules: ["DEFAULT"] } } },
      "spec.kafka.authorization.principalMappingRules",
    ],
    [
      "a principal mapping rule Kafka would refuse",
      {
        kafka: {
          tls: { secretName: "t", requireClientCert: true },
          authorization: { principalMappingRules: ["RULE:^CN=(.*)$/$1/LU"] },
        },
      },
      "spec.kafka.authorization.principalMappingRules[]",
    ],
  ];
  for (const [name, spec, field] of bad) {
    it(`rejects ${name}, naming ${field}`, () => {
      assert.throws(
        () => resolveSpec(agent(spec)),
        (err: unknown) => err instanceof InvalidSpecError && err.message.startsWith(`${field}: `),
      );
    });
  }
});

describe("services, PDB, service account", () => {
  it("bootstrap Service, headless Service, PDB select the agent pods", () => {
    const a = agent();
    const spec = resolveSpec(a);
    const pod = desiredDeployment(a, spec, "z", 1).spec!.template.metadata!.labels!;
    for (const sel of [
      desiredBootstrapService(a, spec).spec!.selector!,
      desiredHeadlessService(a, spec).spec!.selector!,
      desiredPodDisruptionBudget(a, spec).spec!.selector!.matchLabels!,
    ]) {
      for (const [k, v] of Object.entries(sel)) assert.equal(pod[k], v, `selector ${k}`);
    }
    assert.equal(desiredHeadlessService(a, spec).spec!.clusterIP, "None");
    assert.equal(bootstrapAddress(spec), "wa.ns1.svc:9092");
  });

  it("creates a ServiceAccount only when the spec names none", () => {
    const a = agent();
    assert.equal(desiredServiceAccount(a, resolveSpec(a))!.metadata!.name, "wa-agent");
    const b = agent({ serviceAccountName: "mine" });
    assert.equal(desiredServiceAccount(b, resolveSpec(b)), null);
  });
});

describe("names", () => {
  it("zone names that are not DNS labels or too long become unique DNS labels", () => {
    assert.match(deploymentName("wa", "us-east-1a"), /^wa-us-east-1a-[0-9a-f]{6}$/);
    const odd = deploymentName("wa", "Zone_A");
    assert.match(odd, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    assert.notEqual(odd, deploymentName("wa", "zone-a"));
    const long = dnsName("x".repeat(60), "zone");
    assert.ok(long.length <= 63);
    const longDeployment = deploymentName("x".repeat(63), "y".repeat(63));
    assert.ok(longDeployment.length <= 63);
    assert.match(longDeployment, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    assert.notEqual(longDeployment, deploymentName("x".repeat(63), `${"y".repeat(62)}z`));
  });

  it("names of different WarpAgents and zones never join to the same text", () => {
    assert.notEqual(deploymentName("ab", "c-d"), deploymentName("ab-c", "d"));
    // The headless Service of `coll` and the bootstrap Service of a WarpAgent `coll-agents`.
    assert.notEqual(headlessServiceName("coll"), bootstrapServiceName("coll-agents"));
    assert.match(headlessServiceName("coll"), /^coll-agents-[0-9a-f]{6}$/);
    assert.ok(headlessServiceName("x".repeat(63)).length <= 63);
  });
});
