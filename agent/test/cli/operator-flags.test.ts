/**
 * `warp operator` flags → runOperator's OperatorOptions: defaults, flags, environment twins and messages
 * naming the flag for bad values.
 */
import assert from "node:assert/strict";
import { normaliseFlagArgs } from "../../../cli/flags.js";
import { OPERATOR_FLAG_LIST, parseOperatorOptions } from "../../../cli/operator-flags.js";
import { ConfigError } from "../../../common/flags/read.js";

describe("warp operator flags", () => {
  it("defaults: default kubeconfig loading, all namespaces, leader election on, metrics on 8081", () => {
    assert.deepEqual(parseOperatorOptions({}, {}), {
      options: {
        namespaces: [],
        leaderElection: { enabled: true, leaseName: "warp-operator", leaseNamespace: "default" },
        metricsPort: 8081,
        policy: {
          allowedImageRepositories: ["ghcr.io/warp-agent/warp"],
          allowedServiceAccounts: [],
          allowSecretEnv: false,
        },
        aws: {},
      },
      logLevel: "info",
    });
    assert.equal(
      parseOperatorOptions({}, { POD_NAMESPACE: "warp-system" }).options.leaderElection?.leaseNamespace,
      "warp-system",
    );
  });

  it("maps every flag", () => {
    const args = normaliseFlagArgs(
      [
        "-kubeconfig",
        "/tmp/kc",
        "-namespace=team-a, team-b",
        "-leaderElect=false",
        "--leaseName",
        "my-lease",
        "-leaseNamespace",
        "ops",
        "-metricsPort",
        "0",
        "-logLevel",
        "debug",
        "-allowedImageRepositories",
        "registry.example.com/warp, registry.example.com/team/",
        "-allowedServiceAccounts=warp-irsa,team-*",
        "-allowSecretEnv",
      ],
      OPERATOR_FLAG_LIST,
    );
    const flags = Object.fromEntries(args.map((a) => a.slice(2).split(/=(.*)/s, 2) as [string, string]));
    assert.deepEqual(parseOperatorOptions(flags, {}), {
      options: {
        kubeconfig: "/tmp/kc",
        namespaces: ["team-a", "team-b"],
        leaderElection: { enabled: false, leaseName: "my-lease", leaseNamespace: "ops" },
        metricsPort: 0,
        policy: {
          allowedImageRepositories: ["registry.example.com/warp", "registry.example.com/team/"],
          allowedServiceAccounts: ["warp-irsa", "team-*"],
          allowSecretEnv: true,
        },
        aws: {},
      },
      logLevel: "debug",
    });
  });

  it("takes AWS endpoint overrides from the standard variables (so S3 gets path-style addressing)", () => {
    assert.deepEqual(
      parseOperatorOptions({}, { AWS_ENDPOINT_URL_DYNAMODB: "http://ls:4566", AWS_ENDPOINT_URL_S3: "http://s3:9000" })
        .options.aws,
      { dynamodbEndpoint: "http://ls:4566", s3Endpoint: "http://s3:9000" },
    );
    assert.deepEqual(parseOperatorOptions({}, { AWS_ENDPOINT_URL: "http://ls:4566" }).options.aws, {
      dynamodbEndpoint: "http://ls:4566",
      s3Endpoint: "http://ls:4566",
    });
  });

  it("reads the environment twins", () => {
    const cli = parseOperatorOptions(
      {},
      {
        WARP_OPERATOR_KUBECONFIG: "/etc/kc",
        WARP_OPERATOR_NAMESPACE: "a",
        WARP_OPERATOR_LEADER_ELECT: "0",
        WARP_OPERATOR_LEASE_NAME: "l",
        WARP_OPERATOR_LEASE_NAMESPACE: "n",
        WARP_OPERATOR_METRICS_PORT: "9100",
        WARP_LOG_LEVEL: "warn",
        WARP_OPERATOR_ALLOWED_IMAGE_REPOSITORIES: "r.example.com/warp",
        WARP_OPERATOR_ALLOWED_SERVICE_ACCOUNTS: "sa",
        WARP_OPERATOR_ALLOW_SECRET_ENV: "true",
      },
    );
    assert.deepEqual(cli, {
      options: {
        kubeconfig: "/etc/kc",
        namespaces: ["a"],
        leaderElection: { enabled: false, leaseName: "l", leaseNamespace: "n" },
        metricsPort: 9100,
        policy: {
          allowedImageRepositories: ["r.example.com/warp"],
          allowedServiceAccounts: ["sa"],
          allowSecretEnv: true,
        },
        aws: {},
      },
      logLevel: "warn",
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    ["namespace", "Team_A", /-namespace.*"Team_A" is not a namespace name/],
    ["leaderElect", "sometimes", /-leaderElect.*true, false, 1 or 0/],
    ["leaseName", "UPPER", /-leaseName.*Kubernetes name/],
    ["leaseNamespace", "a b", /-leaseNamespace.*Kubernetes name/],
    ["metricsPort", "70000", /-metricsPort.*0 to 65535/],
    ["logLevel", "chatty", /-logLevel.*error, warn, info/],
    ["allowedImageRepositories", "a b", /-allowedImageRepositories.*"a b" is not an image repository/],
    ["allowedServiceAccounts", "Bad_SA", /-allowedServiceAccounts.*"Bad_SA" is not a service account name/],
    ["allowSecretEnv", "maybe", /-allowSecretEnv.*true, false, 1 or 0/],
  ];
  for (const [name, raw, message] of bad) {
    it(`-${name} ${raw} is refused, naming the flag`, () => {
      assert.throws(
        () => parseOperatorOptions({ [name]: raw }, {}),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it("refuses an unknown flag", () => {
    assert.throws(() => parseOperatorOptions({ bucketURL: "mem://x" }, {}), /unknown flag -bucketURL/);
  });
});
