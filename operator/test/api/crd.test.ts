import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_FILE, specSchema, statusSchema, warpAgentCrdYaml } from "../../src/api/crd.js";
import type { JSONSchemaProps } from "../../src/api/crd.js";
import type { WarpAgentSpec, WarpAgentStatus } from "../../src/api/types.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Every field of T required, recursively: a literal of this type must name every field the type has. */
type DeepRequired<T> =
  T extends Array<infer U> ? Array<DeepRequired<U>> : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;

// Fully populated objects. Adding a field to the TypeScript types makes these fail to compile until
// the field is added here, and then the drift test below fails until the schema has it too.
const fullSpec: DeepRequired<WarpAgentSpec> = {
  region: "us-east-1",
  tables: {
    files: "f1",
    chunks: "c1",
    billingMode: "Provisioned",
    readCapacityUnits: 1,
    writeCapacityUnits: 1,
    deletionPolicy: "Delete",
    adopt: true,
  },
  bucket: { name: "bucket", prefix: "p/", create: true },
  batchTimeout: "50ms",
  zones: [{ name: "a", replicas: 1 }],
  replicasPerZone: 1,
  image: "img",
  imagePullPolicy: "Always",
  resources: { requests: { cpu: "1" }, limits: { memory: "1Gi" } },
  serviceAccountName: "sa",
  endpoints: { dynamodb: "http://x", s3: "http://y" },
  env: [{ name: "A", value: "b", valueFrom: { fieldRef: { fieldPath: "x" } } }],
  kafka: {
    tls: { secretName: "tls", requireClientCert: true },
    sasl: {
      mechanisms: ["SCRAM-SHA-512", "OAUTHBEARER"],
      usersSecret: { name: "users", key: "users" },
      oauthbearer: {
        jwks: {
          url: "https://idp.example/certs",
          configMapKeyRef: { name: "jwks", key: "jwks.json" },
          secretKeyRef: { name: "jwks", key: "jwks.json" },
        },
        issuer: "https://idp.example",
        audience: ["warp"],
        principalClaim: "sub",
        clockSkew: "30s",
        jwksRefreshInterval: "1h",
      },
      connectionsMaxReauth: "1h",
    },
    authorization: {
      enabled: true,
      superUsers: ["User:admin"],
      allowEveryoneIfNoAclFound: false,
      principalMappingRules: ["DEFAULT"],
    },
  },
  paused: false,
};
const fullStatus: DeepRequired<WarpAgentStatus> = {
  observedGeneration: 1,
  conditions: [
    { type: "Ready", status: "True", reason: "R", message: "m", lastTransitionTime: "t", observedGeneration: 1 },
  ],
  zones: [{ name: "a", replicas: 1, readyReplicas: 1 }],
  zoneSummary: "1/1",
  replicasPerZone: 1,
  selector: "a=b",
  tables: { filesArn: "a", chunksArn: "b" },
  bootstrap: "x:9092",
};

/** Differences between an object's field paths and a schema's, walking both together. */
function drift(value: unknown, schema: JSONSchemaProps, at: string, out: string[]): void {
  if (schema.type === "array") {
    assert.ok(Array.isArray(value), `${at}: schema says array`);
    for (const item of value) drift(item, schema.items!, `${at}[]`, out);
    return;
  }
  if (schema.type !== "object" || !schema.properties) return; // a leaf (scalar, map or free-form object)
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (!(k in schema.properties)) out.push(`${at}.${k} is in the TypeScript type but not in the CRD schema`);
  for (const k of Object.keys(schema.properties)) {
    if (!(k in obj)) out.push(`${at}.${k} is in the CRD schema but not in the TypeScript type`);
    else drift(obj[k], schema.properties[k]!, `${at}.${k}`, out);
  }
}

describe("WarpAgent CRD", () => {
  it("the committed YAML is the generator's output (run npx tsx scripts/gen-crd.ts)", () => {
    const committed = fs.readFileSync(path.join(root, CRD_FILE), "utf8");
    assert.equal(committed, warpAgentCrdYaml());
  });

  it("the spec schema and the WarpAgentSpec type name the same fields", () => {
    const out: string[] = [];
    drift(fullSpec, specSchema, "spec", out);
    assert.deepEqual(out, []);
  });

  it("the status schema and the WarpAgentStatus type name the same fields", () => {
    const out: string[] = [];
    drift(fullStatus, statusSchema, "status", out);
    assert.deepEqual(out, []);
  });

  it("the drift check notices a field missing on either side", () => {
    const out: string[] = [];
    drift(
      { ...fullSpec, extra: 1 },
      { ...specSchema, properties: { ...specSchema.properties, other: { type: "string" } } },
      "spec",
      out,
    );
    assert.deepEqual(out, [
      "spec.extra is in the TypeScript type but not in the CRD schema",
      "spec.other is in the CRD schema but not in the TypeScript type",
    ]);
  });
});
