/**
 * Rules on single spec fields that the OpenAPI types cannot express, each written once with a CEL
 * expression (x-kubernetes-validations in the CRD, so the apiserver refuses the object with the
 * message) and the same check in TypeScript (resolveSpec, for objects stored before a rule existed).
 * Every message says what a valid value looks like.
 */
import {
  MAX_BATCH_TIMEOUT_MS,
  MAX_CONNECTIONS_MAX_REAUTH_MS,
  MAX_OAUTH_CLOCK_SKEW_MS,
  MAX_OAUTH_JWKS_REFRESH_MS,
  MIN_BATCH_TIMEOUT_MS,
  MIN_CONNECTIONS_MAX_REAUTH_MS,
  MIN_OAUTH_JWKS_REFRESH_MS,
} from "./types.js";

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

/**
 * Durations of the Kafka listener settings: Go-style, whole numbers with units h, m, s and ms
 * (30s, 10m, 1h, 1h30m), as the agent's flags read them. Six digits per part and at most 16
 * characters keep every value inside CEL's duration range (about 290 years).
 */
const DURATION_SHAPE = "^([0-9]{1,6}(ms|h|m|s))+$";
const DURATION_MAX_LENGTH = 16;
const DURATION_UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** "1h30m" → 5400000; null when not a duration of that shape. */
export function parseDurationPartsMs(text: string): number | null {
  if (text.length > DURATION_MAX_LENGTH || !new RegExp(DURATION_SHAPE).test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  return total;
}

/** 3600000 → "1h", 90000 → "90s", 250 → "250ms". */
export function formatDurationMs(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  return ms === 0 ? "0s" : `${ms}ms`;
}

/**
 * The rules of a duration field (`what` names it in messages): the shape, then minMs..maxMs, or
 * exactly 0 when `zeroAllowed` (Kafka's "0: off").
 */
export function durationRules(what: string, minMs: number, maxMs: number, zeroAllowed = false): readonly FieldRule[] {
  const range = `from ${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)}`;
  const allowed = zeroAllowed ? `0s (off) or ${range}` : range;
  const shape = `size(self) <= ${DURATION_MAX_LENGTH} && self.matches('${DURATION_SHAPE}')`;
  const inRange = `(duration(self) >= duration('${minMs}ms') && duration(self) <= duration('${maxMs}ms'))`;
  return [
    {
      cel: shape,
      test: (v) => parseDurationPartsMs(v) !== null,
      message: `${what} must be a duration of whole numbers with units h, m, s or ms, e.g. 30s, 10m, 1h or 1h30m (at most ${DURATION_MAX_LENGTH} characters), ${allowed}`,
    },
    {
      // Guarded by the shape so that a value duration() cannot parse never reaches it.
      cel: `!(${shape}) || ${zeroAllowed ? "duration(self) == duration('0s') || " : ""}${inRange}`,
      test: (v) => {
        const ms = parseDurationPartsMs(v);
        return ms === null || (zeroAllowed && ms === 0) || (ms >= minMs && ms <= maxMs);
      },
      message: `${what} must be ${allowed}`,
    },
  ];
}

export const CLOCK_SKEW_RULES = durationRules("clockSkew", 0, MAX_OAUTH_CLOCK_SKEW_MS);
export const JWKS_REFRESH_RULES = durationRules(
  "jwksRefreshInterval",
  MIN_OAUTH_JWKS_REFRESH_MS,
  MAX_OAUTH_JWKS_REFRESH_MS,
);
export const CONNECTIONS_MAX_REAUTH_RULES = durationRules(
  "connectionsMaxReauth",
  MIN_CONNECTIONS_MAX_REAUTH_MS,
  MAX_CONNECTIONS_MAX_REAUTH_MS,
  true,
);

/** An http:// or https:// URL without a user name or password (the agent logs the URL). */
export const JWKS_URL_RULE = regexRule(
  "^https?://[^/?#@\\s]+([/?#]\\S*)?$",
  "jwks.url must be an http:// or https:// URL without a user name, password or spaces, e.g. https://idp.example.com/realms/kafka/protocol/openid-connect/certs (for a file, use configMapKeyRef or secretKeyRef)",
);

/** A key of a ConfigMap or Secret. */
export const CONFIG_KEY_RULE = regexRule(
  "^[-._a-zA-Z0-9]+$",
  "key must be a ConfigMap or Secret key: letters, digits, '-', '_' and '.'",
);

/** A token claim, issuer: one word without spaces (the agent's flags refuse spaces). */
export function wordRule(what: string): FieldRule {
  return regexRule("^\\S+$", `${what} must be non-empty and contain no spaces`);
}

/** One audience of -kafkaSASLOAuthAudience (a comma-separated list). */
export const AUDIENCE_RULE = regexRule(
  "^[^,\\s]([^,]*[^,\\s])?$",
  "an audience must be non-empty, without ',' and without leading or trailing spaces",
);

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
