/**
 * The WarpAgent CustomResourceDefinition, built from code so that it has one source. The YAML in
 * crds/ is generated from `warpAgentCrd()` by scripts/gen-crd.ts; a test checks the committed file
 * and a test checks this schema against the TypeScript types in ./types.ts.
 */
import { stringify } from "yaml";
import {
  BILLING_MODES,
  DEFAULT_BATCH_TIMEOUT,
  DEFAULT_JWKS_KEY,
  DEFAULT_OAUTH_CLOCK_SKEW,
  DEFAULT_OAUTH_JWKS_REFRESH_INTERVAL,
  DEFAULT_OAUTH_PRINCIPAL_CLAIM,
  DEFAULT_REPLICAS_PER_ZONE,
  DELETION_POLICIES,
  GROUP,
  KIND,
  MAX_BATCH_TIMEOUT_MS,
  MAX_CONNECTIONS_MAX_REAUTH_MS,
  MAX_OAUTH_CLOCK_SKEW_MS,
  MAX_OAUTH_JWKS_REFRESH_MS,
  MIN_BATCH_TIMEOUT_MS,
  MIN_CONNECTIONS_MAX_REAUTH_MS,
  MIN_OAUTH_JWKS_REFRESH_MS,
  PLURAL,
  PULL_POLICIES,
  SASL_MECHANISMS,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./types.js";
import {
  AUDIENCE_RULE,
  BATCH_TIMEOUT_RULES,
  BUCKET_NAME_RULES,
  CLOCK_SKEW_RULES,
  CONFIG_KEY_RULE,
  CONNECTIONS_MAX_REAUTH_RULES,
  ENV_NAME_RULE,
  IMAGE_RULE,
  JWKS_REFRESH_RULES,
  JWKS_URL_RULE,
  PRINCIPAL_MAPPING_RULE,
  SERVICE_ACCOUNT_RULE,
  SUPER_USER_RULES,
  ZONE_NAME_RULE,
  celValidations,
  formatDurationMs,
  objectNameRule,
  wordRule,
} from "./validation.js";

/** The subset of OpenAPI v3 (plus Kubernetes extensions) the CRD uses. */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: JSONSchemaProps[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: Array<{ rule: string; message: string; fieldPath?: string; reason?: string }>;
}

const str = (description: string, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: "string",
  description,
  maxLength: 1024,
  ...extra,
});

/** A CEL transition rule refusing any change to a field once set. */
function immutable(field: string, why: string): { rule: string; message: string } {
  return {
    rule: "self == oldSelf",
    message: `${field} cannot be changed after creation (${why}); create a new WarpAgent instead`,
  };
}

const TABLE_NAME = { minLength: 3, maxLength: 255, pattern: "^[a-zA-Z0-9_.-]+$" };
/** A key of a ConfigMap or Secret in the WarpAgent's namespace. */
function keyRef(description: string): JSONSchemaProps {
  return {
    type: "object",
    description,
    required: ["name"],
    properties: {
      name: str("Object name.", {
        minLength: 1,
        maxLength: 253,
        "x-kubernetes-validations": celValidations([objectNameRule("name")]),
      }),
      key: str("Key of the JWKS.", {
        default: DEFAULT_JWKS_KEY,
        minLength: 1,
        maxLength: 253,
        "x-kubernetes-validations": celValidations([CONFIG_KEY_RULE]),
      }),
    },
  };
}

const quantityMap: JSONSchemaProps = {
  type: "object",
  additionalProperties: { anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true },
};

export const specSchema: JSONSchemaProps = {
  type: "object",
  description: "Desired state: DynamoDB tables, compaction bucket and per-zone agent Deployments.",
  required: ["region", "tables", "bucket"],
  properties: {
    region: str("AWS region of the tables and the bucket, e.g. us-east-1.", {
      minLength: 1,
      maxLength: 64,
      pattern: "^([a-z]{2}(-[a-z0-9]+)+-[0-9]+|local)$",
      "x-kubernetes-validations": [immutable("region", "the tables and their data stay in the old region")],
    }),
    tables: {
      type: "object",
      description: "The two DynamoDB tables the agents ingest into.",
      required: ["files", "chunks"],
      properties: {
        files: str("Files table name (ingestion-file descriptors and the control plane). Immutable.", {
          ...TABLE_NAME,
          "x-kubernetes-validations": [immutable("tables.files", "the old table and its data would be orphaned")],
        }),
        chunks: str("Chunks table name (the bytes of ingestion files). Immutable.", {
          ...TABLE_NAME,
          "x-kubernetes-validations": [immutable("tables.chunks", "the old table and its data would be orphaned")],
        }),
        billingMode: {
          type: "string",
          description: "PayPerRequest (on-demand) or Provisioned.",
          enum: [...BILLING_MODES],
          default: "PayPerRequest",
        },
        readCapacityUnits: {
          type: "integer",
          description: "Read capacity per table; required iff billingMode is Provisioned.",
          minimum: 1,
          maximum: 40000,
        },
        writeCapacityUnits: {
          type: "integer",
          description: "Write capacity per table; required iff billingMode is Provisioned.",
          minimum: 1,
          maximum: 40000,
        },
        deletionPolicy: {
          type: "string",
          description:
            "Retain keeps the tables when the WarpAgent is deleted; Delete stops the agents, then deletes the tables this WarpAgent created or adopted (never others).",
          enum: [...DELETION_POLICIES],
          default: "Retain",
        },
        adopt: {
          type: "boolean",
          description:
            "Take ownership of tables that already exist (tagging them as this WarpAgent's). Without it an existing table is reported as TableNotOwned and never changed or deleted.",
          default: false,
        },
      },
      "x-kubernetes-validations": [
        {
          rule: "self.billingMode != 'Provisioned' || (has(self.readCapacityUnits) && has(self.writeCapacityUnits))",
          message: "readCapacityUnits and writeCapacityUnits are required when billingMode is Provisioned",
          fieldPath: ".billingMode",
        },
        {
          rule: "self.billingMode == 'Provisioned' || (!has(self.readCapacityUnits) && !has(self.writeCapacityUnits))",
          message: "readCapacityUnits and writeCapacityUnits are only allowed when billingMode is Provisioned",
          fieldPath: ".billingMode",
        },
        {
          rule: "self.files != self.chunks",
          message: "files and chunks must name different tables",
          fieldPath: ".chunks",
        },
      ],
    },
    bucket: {
      type: "object",
      description: "The S3 bucket compacted data is written to.",
      required: ["name"],
      properties: {
        name: str("Bucket name (S3 bucket naming rules).", {
          maxLength: 63,
          "x-kubernetes-validations": celValidations(BUCKET_NAME_RULES),
        }),
        prefix: str("Key prefix inside the bucket.", { pattern: "^([^/].*)?$" }),
        create: {
          type: "boolean",
          description: "Create the bucket when it does not exist (otherwise only check it).",
          default: false,
        },
      },
    },
    batchTimeout: str(
      `How long an agent batches produce requests into one ingestion file (ms or s). From ${MIN_BATCH_TIMEOUT_MS}ms to ${MAX_BATCH_TIMEOUT_MS / 1000}s.`,
      {
        default: DEFAULT_BATCH_TIMEOUT,
        maxLength: 16,
        "x-kubernetes-validations": celValidations(BATCH_TIMEOUT_RULES),
      },
    ),
    zones: {
      type: "array",
      description:
        "Availability zones to run agents in. When empty, discovered from the nodes' topology.kubernetes.io/zone labels.",
      maxItems: 16,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        required: ["name"],
        properties: {
          name: str("Zone name, as in topology.kubernetes.io/zone.", {
            minLength: 1,
            maxLength: 63,
            "x-kubernetes-validations": celValidations([ZONE_NAME_RULE]),
          }),
          replicas: {
            type: "integer",
            description: "Agents in this zone (default: replicasPerZone).",
            minimum: 0,
            maximum: 1000,
          },
        },
      },
    },
    replicasPerZone: {
      type: "integer",
      description: "Agents per zone unless the zone says otherwise.",
      minimum: 0,
      maximum: 1000,
      default: DEFAULT_REPLICAS_PER_ZONE,
    },
    image: str("Agent container image.", { maxLength: 512, "x-kubernetes-validations": celValidations([IMAGE_RULE]) }),
    imagePullPolicy: {
      type: "string",
      description: "Image pull policy of the agent container.",
      enum: [...PULL_POLICIES],
    },
    resources: {
      type: "object",
      description: "Agent container resources.",
      properties: {
        requests: { ...quantityMap, description: "Resource requests." },
        limits: { ...quantityMap, description: "Resource limits." },
      },
    },
    serviceAccountName: str(
      "Service account of the agents (IRSA / Pod Identity). When empty the operator creates <name>-agent.",
      {
        maxLength: 253,
        "x-kubernetes-validations": celValidations([SERVICE_ACCOUNT_RULE]),
      },
    ),
    endpoints: {
      type: "object",
      description:
        "AWS endpoint overrides (LocalStack, DynamoDB Local, an S3 emulator). Used by the operator and passed to the agents.",
      properties: {
        dynamodb: str("DynamoDB endpoint URL.", { pattern: "^https?://" }),
        s3: str("S3 endpoint URL (path-style addressing is used).", { pattern: "^https?://" }),
      },
    },
    env: {
      type: "array",
      description: "Extra environment variables for the agent container.",
      maxItems: 64,
      items: {
        type: "object",
        required: ["name"],
        properties: {
          name: str("Variable name.", {
            minLength: 1,
            maxLength: 256,
            "x-kubernetes-validations": celValidations([ENV_NAME_RULE]),
          }),
          value: { type: "string", description: "Value." },
          valueFrom: {
            type: "object",
            description: "A core/v1 EnvVarSource.",
            "x-kubernetes-preserve-unknown-fields": true,
          },
        },
      },
    },
    kafka: {
      type: "object",
      description:
        "Security of the agents' Kafka listener. Default: plaintext without authentication or authorization.",
      "x-kubernetes-validations": [
        {
          rule: "!has(self.authorization) || !has(self.authorization.principalMappingRules) || size(self.authorization.principalMappingRules) == 0 || (has(self.tls) && has(self.tls.requireClientCert) && self.tls.requireClientCert)",
          message:
            "authorization.principalMappingRules map client certificates to principals: they need tls.requireClientCert: true",
          fieldPath: ".authorization.principalMappingRules",
        },
      ],
      properties: {
        tls: {
          type: "object",
          description: "TLS on the Kafka listener; plaintext clients are refused.",
          required: ["secretName"],
          properties: {
            secretName: str(
              "A kubernetes.io/tls Secret in this namespace: tls.crt, tls.key (and ca.crt for requireClientCert).",
              {
                minLength: 1,
                maxLength: 253,
                "x-kubernetes-validations": celValidations([objectNameRule("secretName")]),
              },
            ),
            requireClientCert: {
              type: "boolean",
              description: "Mutual TLS: clients must present a certificate signed by the Secret's ca.crt.",
              default: false,
            },
          },
        },
        sasl: {
          type: "object",
          description:
            "SASL authentication on the Kafka listener; unauthenticated requests are refused. PLAIN and SCRAM need usersSecret, OAUTHBEARER needs oauthbearer.",
          required: ["mechanisms"],
          "x-kubernetes-validations": [
            {
              rule: "!self.mechanisms.exists(m, m != 'OAUTHBEARER') || has(self.usersSecret)",
              message:
                "usersSecret is required when PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 is enabled: it holds their users",
              fieldPath: ".usersSecret",
            },
            {
              rule: "!has(self.usersSecret) || self.mechanisms.exists(m, m != 'OAUTHBEARER')",
              message:
                "usersSecret is only read by PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: enable one of them or remove usersSecret",
              fieldPath: ".usersSecret",
            },
            {
              rule: "!('OAUTHBEARER' in self.mechanisms) || has(self.oauthbearer)",
              message:
                "oauthbearer (where the token signing keys come from, and the checks) is required when OAUTHBEARER is enabled",
              fieldPath: ".oauthbearer",
            },
            {
              rule: "!has(self.oauthbearer) || 'OAUTHBEARER' in self.mechanisms",
              message: "oauthbearer is set but OAUTHBEARER is not in mechanisms: add it or remove oauthbearer",
              fieldPath: ".oauthbearer",
            },
          ],
          properties: {
            mechanisms: {
              type: "array",
              description: `Enabled mechanisms, in the order the agents offer them: ${SASL_MECHANISMS.join(", ")}.`,
              minItems: 1,
              maxItems: SASL_MECHANISMS.length,
              "x-kubernetes-list-type": "set",
              items: { type: "string", enum: [...SASL_MECHANISMS] },
            },
            usersSecret: {
              type: "object",
              description:
                "The Secret holding the users file of PLAIN and SCRAM (mounted into the agent pods; the operator never reads it). Required iff one of them is enabled.",
              required: ["name"],
              properties: {
                name: str("Secret name.", {
                  minLength: 1,
                  maxLength: 253,
                  "x-kubernetes-validations": celValidations([objectNameRule("usersSecret.name")]),
                }),
                key: str("Key of the users file in the Secret.", { default: "users", minLength: 1, maxLength: 253 }),
              },
            },
            oauthbearer: {
              type: "object",
              description:
                "OAUTHBEARER: clients authenticate with JWT access tokens of an identity provider, checked against its signing keys (JWKS) as a Kafka broker checks them. Required iff OAUTHBEARER is enabled. See docs/security.md.",
              required: ["jwks"],
              properties: {
                jwks: {
                  type: "object",
                  description:
                    "Where the provider's signing keys come from: exactly one of url (the agents fetch it), configMapKeyRef or secretKeyRef (mounted into the agent pods as a file; the operator never reads it).",
                  "x-kubernetes-validations": [
                    {
                      rule: "[has(self.url), has(self.configMapKeyRef), has(self.secretKeyRef)].filter(x, x).size() == 1",
                      message: "jwks: set exactly one of url, configMapKeyRef and secretKeyRef",
                    },
                  ],
                  properties: {
                    url: str("The provider's jwks_uri, http:// or https://.", {
                      minLength: 1,
                      maxLength: 2048,
                      "x-kubernetes-validations": celValidations([JWKS_URL_RULE]),
                    }),
                    configMapKeyRef: keyRef("A ConfigMap key holding the JWKS (JSON)."),
                    secretKeyRef: keyRef("A Secret key holding the JWKS (JSON)."),
                  },
                },
                issuer: str(
                  "The iss claim every token must carry (Kafka's sasl.oauthbearer.expected.issuer). Default: not checked.",
                  { minLength: 1, maxLength: 255, "x-kubernetes-validations": celValidations([wordRule("issuer")]) },
                ),
                audience: {
                  type: "array",
                  description:
                    "A token's aud claim must name one of these (Kafka's sasl.oauthbearer.expected.audience). Default: not checked.",
                  minItems: 1,
                  maxItems: 16,
                  "x-kubernetes-list-type": "set",
                  items: str("An audience.", {
                    minLength: 1,
                    maxLength: 255,
                    "x-kubernetes-validations": celValidations([AUDIENCE_RULE]),
                  }),
                },
                principalClaim: str(
                  "The claim naming the principal, User:<value> (Kafka's sasl.oauthbearer.sub.claim.name), e.g. client_id or azp for client-credentials tokens of some providers.",
                  {
                    default: DEFAULT_OAUTH_PRINCIPAL_CLAIM,
                    minLength: 1,
                    maxLength: 255,
                    "x-kubernetes-validations": celValidations([wordRule("principalClaim")]),
                  },
                ),
                clockSkew: str(
                  `Allowance for clock differences when checking exp, nbf and iat (Kafka's sasl.oauthbearer.clock.skew.seconds), e.g. 30s; at most ${formatDurationMs(MAX_OAUTH_CLOCK_SKEW_MS)}.`,
                  {
                    default: DEFAULT_OAUTH_CLOCK_SKEW,
                    maxLength: 16,
                    "x-kubernetes-validations": celValidations(CLOCK_SKEW_RULES),
                  },
                ),
                jwksRefreshInterval: str(
                  `How often the JWKS is read again (Kafka's sasl.oauthbearer.jwks.endpoint.refresh.ms), e.g. 1h; from ${formatDurationMs(MIN_OAUTH_JWKS_REFRESH_MS)} to ${formatDurationMs(MAX_OAUTH_JWKS_REFRESH_MS)}. A token naming an unknown key id makes the agents read it at once.`,
                  {
                    default: DEFAULT_OAUTH_JWKS_REFRESH_INTERVAL,
                    maxLength: 16,
                    "x-kubernetes-validations": celValidations(JWKS_REFRESH_RULES),
                  },
                ),
              },
            },
            connectionsMaxReauth: str(
              `Longest SASL session before a client must re-authenticate on its connection (KIP-368; Kafka's connections.max.reauth.ms), e.g. 1h: 0s (off) or ${formatDurationMs(MIN_CONNECTIONS_MAX_REAUTH_MS)} to ${formatDurationMs(MAX_CONNECTIONS_MAX_REAUTH_MS)}. A connection that has not re-authenticated in time is closed at its next request. Default: off (OAUTHBEARER sessions still end when the token expires).`,
              { maxLength: 16, "x-kubernetes-validations": celValidations(CONNECTIONS_MAX_REAUTH_RULES) },
            ),
          },
        },
        authorization: {
          type: "object",
          description:
            "ACLs (managed with kafka-acls; kept in the metadata log, so every agent enforces the same set). See docs/security.md.",
          "x-kubernetes-validations": [
            {
              rule: "!has(self.enabled) || !self.enabled || (has(self.superUsers) && size(self.superUsers) > 0) || (has(self.allowEveryoneIfNoAclFound) && self.allowEveryoneIfNoAclFound)",
              message:
                "with authorization enabled, name at least one super user (or set allowEveryoneIfNoAclFound): creating ACLs needs ALTER on the cluster, which only they have at first",
              fieldPath: ".superUsers",
            },
          ],
          properties: {
            enabled: {
              type: "boolean",
              description: "Enforce ACLs on every request. Off: every client may do everything.",
              default: false,
            },
            superUsers: {
              type: "array",
              description: "Principals allowed everything whatever the ACLs say, e.g. User:admin.",
              maxItems: 64,
              "x-kubernetes-list-type": "set",
              items: str("A principal, User:<name>.", {
                minLength: 6,
                maxLength: 512,
                "x-kubernetes-validations": celValidations(SUPER_USER_RULES),
              }),
            },
            allowEveryoneIfNoAclFound: {
              type: "boolean",
              description:
                "Whether a resource no ACL names is open to everybody (true) or to super users only (false, as in Kafka).",
              default: false,
            },
            principalMappingRules: {
              type: "array",
              description:
                "Mutual TLS: how a client certificate's subject (RFC 2253, e.g. CN=app,O=Example) becomes its principal, as Kafka's ssl.principal.mapping.rules: RULE:<pattern>/<replacement>/[L|U] or DEFAULT, one per item, first match wins. Default: DEFAULT.",
              maxItems: 32,
              "x-kubernetes-list-type": "atomic",
              items: str("One rule.", {
                minLength: 1,
                "x-kubernetes-validations": celValidations([PRINCIPAL_MAPPING_RULE]),
              }),
            },
          },
        },
      },
    },
    paused: {
      type: "boolean",
      description: "Stop reconciling: no AWS or Kubernetes writes except status.",
      default: false,
    },
  },
};

export const statusSchema: JSONSchemaProps = {
  type: "object",
  description: "Observed state, written by the operator.",
  properties: {
    observedGeneration: { type: "integer", description: "The generation the status describes." },
    conditions: {
      type: "array",
      description: "Ready, TablesReady, BucketReady, AgentsReady.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
      items: {
        type: "object",
        required: ["type", "status", "reason", "message", "lastTransitionTime"],
        properties: {
          type: { type: "string", description: "Condition type." },
          status: { type: "string", description: "True, False or Unknown.", enum: ["True", "False", "Unknown"] },
          reason: { type: "string", description: "CamelCase reason." },
          message: { type: "string", description: "What a person can act on." },
          lastTransitionTime: { type: "string", description: "When status last changed.", format: "date-time" },
          observedGeneration: { type: "integer", description: "Generation the condition was computed from." },
        },
      },
    },
    zones: {
      type: "array",
      description: "Agents per zone.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        required: ["name", "replicas", "readyReplicas"],
        properties: {
          name: { type: "string", description: "Zone." },
          replicas: { type: "integer", description: "Desired agents." },
          readyReplicas: { type: "integer", description: "Ready agents." },
        },
      },
    },
    zoneSummary: { type: "string", description: "Ready zones / zones." },
    replicasPerZone: {
      type: "integer",
      description: "Ready agents in the zone with the fewest (scale subresource status.replicas).",
    },
    selector: { type: "string", description: "Label selector of all agent pods (scale subresource)." },
    tables: {
      type: "object",
      description: "Table ARNs.",
      properties: {
        filesArn: { type: "string", description: "Files table ARN." },
        chunksArn: { type: "string", description: "Chunks table ARN." },
      },
    },
    bootstrap: { type: "string", description: "Kafka bootstrap address (host:port)." },
  },
};

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export function warpAgentCrd(): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: ["warp"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          // `kubectl scale wa <name> --replicas=N` sets replicasPerZone: N agents in every zone
          // without its own zones[].replicas.
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.replicasPerZone",
              statusReplicasPath: ".status.replicasPerZone",
              labelSelectorPath: ".status.selector",
            },
          },
          additionalPrinterColumns: [
            { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: "Zones", type: "string", jsonPath: ".status.zoneSummary" },
            { name: "Bootstrap", type: "string", jsonPath: ".status.bootstrap" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: "A Kafka-compatible agent fleet on DynamoDB and S3.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: specSchema,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}

export const CRD_FILE = "crds/warpagent.dev_warpagents.yaml";

export function warpAgentCrdYaml(): string {
  return (
    "# Generated by scripts/gen-crd.ts from operator/src/api/crd.ts. Do not edit.\n" +
    stringify(warpAgentCrd(), { lineWidth: 0 })
  );
}
