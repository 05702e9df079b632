/**
 * Flags of `warp operator`: a small surface (where the API server is, what to watch, leader election,
 * the metrics port). Everything else the operator needs comes from WarpAgent resources and the standard
 * AWS environment (credentials, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3).
 */
import { DEFAULT_POLICY } from "../operator/src/api/policy.js";
import type { AgentPolicy } from "../operator/src/api/policy.js";
import type { OperatorOptions } from "../operator/src/main.js";
import { ConfigError, flagReader } from "../common/flags/read.js";
import { type FlagSpec, stringFlag } from "../common/flags/spec.js";
import { LOG_LEVELS, type LogLevel } from "../common/flags/values.js";

/** What `warp operator` passes to runOperator, plus the log level it sets first. */
export interface OperatorCli {
  readonly options: OperatorOptions;
  readonly logLevel: LogLevel;
}

export const OPERATOR_FLAGS = {
  kubeconfig: stringFlag({
    name: "kubeconfig",
    env: "WARP_OPERATOR_KUBECONFIG",
    defaultText: "$KUBECONFIG, else ~/.kube/config, else in-cluster config",
    valueName: "path",
    help: "Kubeconfig file to reach the API server.",
  }),
  namespace: stringFlag({
    name: "namespace",
    env: "WARP_OPERATOR_NAMESPACE",
    defaultText: "all namespaces",
    valueName: "names",
    help: "Namespace(s) whose WarpAgent resources are reconciled, comma-separated.",
  }),
  leaderElect: stringFlag({
    name: "leaderElect",
    env: "WARP_OPERATOR_LEADER_ELECT",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "Take a Lease before reconciling, so only one of several operator replicas acts.",
  }),
  leaseName: stringFlag({
    name: "leaseName",
    env: "WARP_OPERATOR_LEASE_NAME",
    defaultText: "warp-operator",
    valueName: "name",
    help: "Name of the leader-election Lease.",
  }),
  leaseNamespace: stringFlag({
    name: "leaseNamespace",
    env: "WARP_OPERATOR_LEASE_NAMESPACE",
    defaultText: "$POD_NAMESPACE, else default",
    valueName: "namespace",
    help: "Namespace of the leader-election Lease.",
  }),
  metricsPort: stringFlag({
    name: "metricsPort",
    env: "WARP_OPERATOR_METRICS_PORT",
    defaultText: "8081",
    valueName: "port",
    help: "Port of the operator's /metrics, /healthz and /readyz (0 picks a free port).",
  }),
  allowedImageRepositories: stringFlag({
    name: "allowedImageRepositories",
    env: "WARP_OPERATOR_ALLOWED_IMAGE_REPOSITORIES",
    defaultText: DEFAULT_POLICY.allowedImageRepositories.join(","),
    valueName: "repositories",
    help: 'Image repositories a WarpAgent\'s spec.image may name, comma-separated; an entry ending in "/" allows every repository below it (docs/security.md).',
  }),
  allowedServiceAccounts: stringFlag({
    name: "allowedServiceAccounts",
    env: "WARP_OPERATOR_ALLOWED_SERVICE_ACCOUNTS",
    defaultText: "none: only the <name>-agent account the operator creates",
    valueName: "names",
    help: 'Service accounts a WarpAgent\'s spec.serviceAccountName may name, comma-separated; a trailing "*" matches any suffix.',
  }),
  allowSecretEnv: stringFlag({
    name: "allowSecretEnv",
    env: "WARP_OPERATOR_ALLOW_SECRET_ENV",
    defaultText: "false",
    valueName: "bool",
    boolean: true,
    help: "Let a WarpAgent's spec.env read Secrets (valueFrom.secretKeyRef) in its namespace.",
  }),
  logLevel: stringFlag({
    name: "logLevel",
    env: "WARP_LOG_LEVEL",
    defaultText: "info",
    valueName: "level",
    help: `Log level of the JSON logs on stderr: ${LOG_LEVELS.join(", ")}.`,
  }),
} as const;

export const OPERATOR_FLAG_LIST: readonly FlagSpec[] = Object.values(OPERATOR_FLAGS);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A service account name, or a prefix of one followed by "*". */
const SERVICE_ACCOUNT_ENTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$|^([a-z0-9][-a-z0-9.]*)?\*$/;
const IMAGE_REPOSITORY_ENTRY = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

function commaList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Builds the operator's options from flags (keys = flag names) and the environment; throws ConfigError. */
export function parseOperatorOptions(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): OperatorCli {
  for (const name of Object.keys(flags)) {
    if (!Object.prototype.hasOwnProperty.call(OPERATOR_FLAGS, name))
      throw new ConfigError(`unknown flag -${name} (see warp operator --help)`);
  }
  const { get, bad, boolean } = flagReader(OPERATOR_FLAGS, flags, env);
  const dnsName = (name: "leaseName" | "leaseNamespace", fallback: string): string => {
    const v = get(name);
    if (!v) return fallback;
    if (!DNS_LABEL.test(v.raw) || v.raw.length > 63)
      throw bad(v, "expected a Kubernetes name (lowercase letters, digits, -)");
    return v.raw;
  };

  const namespaces: string[] = [];
  const ns = get("namespace");
  if (ns) {
    for (const n of commaList(ns.raw)) {
      if (!DNS_LABEL.test(n) || n.length > 63) throw bad(ns, `${JSON.stringify(n)} is not a namespace name`);
      namespaces.push(n);
    }
  }
  const leaderElection = boolean("leaderElect", true);
  const listOf = (
    name: "allowedImageRepositories" | "allowedServiceAccounts",
    entry: RegExp,
    what: string,
    fallback: readonly string[],
  ): readonly string[] => {
    const v = get(name);
    if (!v) return fallback;
    const items = commaList(v.raw);
    const wrong = items.find((i) => !entry.test(i));
    if (wrong !== undefined) throw bad(v, `${JSON.stringify(wrong)} is not ${what}`);
    return items;
  };
  const policy: AgentPolicy = {
    allowedImageRepositories: listOf(
      "allowedImageRepositories",
      IMAGE_REPOSITORY_ENTRY,
      "an image repository",
      DEFAULT_POLICY.allowedImageRepositories,
    ),
    allowedServiceAccounts: listOf(
      "allowedServiceAccounts",
      SERVICE_ACCOUNT_ENTRY,
      "a service account name (or a prefix ending in *)",
      DEFAULT_POLICY.allowedServiceAccounts,
    ),
    allowSecretEnv: boolean("allowSecretEnv", DEFAULT_POLICY.allowSecretEnv),
  };
  let metricsPort = 8081;
  const mp = get("metricsPort");
  if (mp) {
    if (!/^\d+$/.test(mp.raw) || Number(mp.raw) > 65535) throw bad(mp, "expected a port from 0 to 65535");
    metricsPort = Number(mp.raw);
  }
  let logLevel: LogLevel = "info";
  const ll = get("logLevel");
  if (ll) {
    const found = LOG_LEVELS.find((l) => l === ll.raw);
    if (!found) throw bad(ll, `expected one of ${LOG_LEVELS.join(", ")}`);
    logLevel = found;
  }
  const kc = get("kubeconfig");
  return {
    options: {
      ...(kc ? { kubeconfig: kc.raw } : {}),
      namespaces,
      leaderElection: {
        enabled: leaderElection,
        leaseName: dnsName("leaseName", "warp-operator"),
        leaseNamespace: dnsName("leaseNamespace", env.POD_NAMESPACE || "default"),
      },
      metricsPort,
      policy,
      // The SDK reads these variables too, but an explicit endpoint also turns on S3 path-style
      // addressing, which LocalStack-style endpoints need (no bucket subdomains).
      aws: {
        ...(env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL
          ? { dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL }
          : {}),
        ...(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL
          ? { s3Endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL }
          : {}),
      },
    },
    logLevel,
  };
}
