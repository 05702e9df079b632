/**
 * Rules on single spec fields that the OpenAPI types cannot express, each written once with a CEL
 * expression (x-kubernetes-validations in the CRD, so the apiserver refuses the object with the
 * message) and the same check in TypeScript (resolveSpec, for objects stored before a rule existed).
 * Every message says what a valid value looks like.
 */
import { MAX_BATCH_TIMEOUT_MS, MIN_BATCH_TIMEOUT_MS } from "./types.js";

export interface FieldRule {
  /** CEL over `self`, the field's value. */
  readonly cel: string;
  /** The same check in TypeScript. */
  readonly test: (value: string) => boolean;
  readonly message: string;
}

function regexRule(re: string, message: string): FieldRule {
  const js = new RegExp(re);
  return { cel: `self.matches('${re.replace(/\\/g, "\\\\")}')`, test: (v) => js.test(v), message };
}

/** A DNS-1123 subdomain (names of Secrets, ServiceAccounts, ...). */
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** A Kubernetes object name in this namespace, at most 253 characters. */
export function objectNameRule(what: string): FieldRule {
  return regexRule(
    DNS_SUBDOMAIN,
    `${what} must be a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
  );
}

/** `rule`, or the empty string. */
export function emptyOr(rule: FieldRule): FieldRule {
  return { cel: `self == '' || ${rule.cel}`, test: (v) => v === "" || rule.test(v), message: rule.message };
}

export const SERVICE_ACCOUNT_RULE = emptyOr(objectNameRule("serviceAccountName"));

export const ZONE_NAME_RULE = regexRule(
  "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$",
  "zone name must be a label value as in topology.kubernetes.io/zone (e.g. us-east-1a): letters, digits, '-', '_' and '.', starting and ending with a letter or digit, no spaces",
);

const NAME_COMPONENT = "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*";
export const IMAGE_RULE = regexRule(
  "^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]+)?/)?" +
    `${NAME_COMPONENT}(/${NAME_COMPONENT})*` +
    "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$",
  "image must be a container image reference such as registry.example.com/team/warp:1.2.3 (lowercase repository path, optional :tag and @digest, no spaces)",
);

/** A super user: a User principal; ';' separates them in the agent flag, and User:* would turn ACLs off. */
export const SUPER_USER_RULES: readonly FieldRule[] = [
  regexRule("^User:[^;]+$", "a super user is a principal of the form User:<name>, without ';'"),
  {
    cel: "self != 'User:*'",
    test: (v) => v !== "User:*",
    message: "User:* cannot be a super user (that would turn authorization off)",
  },
];

/** One of Kafka's ssl.principal.mapping.rules (the operator parses it fully in resolveSpec). */
export const PRINCIPAL_MAPPING_RULE = regexRule(
  "^\\s*(DEFAULT|RULE:.*)\\s*$",
  "a principal mapping rule is DEFAULT or RULE:<pattern>/<replacement>/ with an optional L or U (Kafka's ssl.principal.mapping.rules)",
);

export const ENV_NAME_RULE = regexRule(
  "^[-._a-zA-Z][-._a-zA-Z0-9]*$",
  "env name must consist of letters, digits, '_', '-' and '.', and must not start with a digit",
);

const IP_ADDRESS = "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$";

export const BUCKET_NAME_RULES: readonly FieldRule[] = [
  regexRule(
    "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    "bucket name must be 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
  ),
  {
    cel: "!self.contains('..')",
    test: (v) => !v.includes(".."),
    message: "bucket name must not contain two adjacent periods",
  },
  {
    cel: `!self.matches('${IP_ADDRESS.replace(/\\/g, "\\\\")}')`,
    test: (v) => !new RegExp(IP_ADDRESS).test(v),
    message: "bucket name must not be formatted as an IP address",
  },
  {
    cel: "!self.startsWith('xn--') && !self.startsWith('sthree-')",
    test: (v) => !v.startsWith("xn--") && !v.startsWith("sthree-"),
    message: "bucket name must not start with xn-- or sthree- (reserved by S3)",
  },
  {
    cel: "!self.endsWith('-s3alias') && !self.endsWith('--ol-s3')",
    test: (v) => !v.endsWith("-s3alias") && !v.endsWith("--ol-s3"),
    message: "bucket name must not end with -s3alias or --ol-s3 (reserved by S3)",
  },
];

/** The shape parseDurationMs reads; nine digits keep every value inside CEL's duration range. */
const BATCH_TIMEOUT_SHAPE = "^[0-9]{1,9}(ms|s)$";
export const BATCH_TIMEOUT_RULES: readonly FieldRule[] = [
  regexRule(
    BATCH_TIMEOUT_SHAPE,
    `batchTimeout must be a whole number of milliseconds or seconds, e.g. 50ms or 1s, between ${MIN_BATCH_TIMEOUT_MS}ms and ${MAX_BATCH_TIMEOUT_MS / 1000}s`,
  ),
  {
    // Guarded by the shape so that a value duration() cannot parse never reaches it.
    cel: `!self.matches('${BATCH_TIMEOUT_SHAPE}') || (duration(self) >= duration('${MIN_BATCH_TIMEOUT_MS}ms') && duration(self) <= duration('${MAX_BATCH_TIMEOUT_MS}ms'))`,
    test: (v) => {
      const ms = parseDurationMs(v);
      return ms === null || (ms >= MIN_BATCH_TIMEOUT_MS && ms <= MAX_BATCH_TIMEOUT_MS);
    },
    message: `batchTimeout must be at least ${MIN_BATCH_TIMEOUT_MS}ms and at most ${MAX_BATCH_TIMEOUT_MS / 1000}s`,
  },
];

/** "50ms" → 50, "1s" → 1000; null when not a duration this API accepts. */
export function parseDurationMs(text: string): number | null {
  const m = /^([0-9]{1,9})(ms|s)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/** The first rule `value` breaks, or undefined. */
export function firstBroken(rules: readonly FieldRule[], value: string): FieldRule | undefined {
  return rules.find((r) => !r.test(value));
}

/** The rules as CRD x-kubernetes-validations. */
export function celValidations(rules: readonly FieldRule[]): Array<{ rule: string; message: string }> {
  return rules.map((r) => ({ rule: r.cel, message: r.message }));
}
